import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from './load.js'

test('the defaults are local and safe; flags win over the environment', () => {
  const c = loadConfig({ apiListen: '127.0.0.1:9000' }, { apiListen: '127.0.0.1:9100' })
  assert.equal(c.driver, 'local')
  assert.equal(c.apiListen.port, 9100)
  assert.equal(c.auditRetentionDays, 90)
  assert.ok(Object.isFrozen(c))
})

test('the kubernetes driver needs credentials; an unknown driver is refused with the setting named', () => {
  assert.throws(() => loadConfig({ driver: 'kubernetes' }), /PALISADE_DRIVER.*KUBECONFIG/)
  assert.equal(loadConfig({ driver: 'kubernetes', kubeconfig: '/etc/kube/config' }).driver, 'kubernetes')
  assert.throws(
    () => loadConfig({ driver: 'kubernetes', kubeconfig: '/k', k8sRegistry: 'Bad Registry' }),
    /k8sRegistry|PALISADE_K8S_REGISTRY/,
  )
  assert.throws(() => loadConfig({ driver: 'docker' }), /PALISADE_DRIVER.*must be local or kubernetes/)
})
