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

test('ACME is off by default; its directory must be https, its e-mail and CA file need it', () => {
  const off = loadConfig({})
  assert.equal(off.acmeDirectoryUrl, undefined)
  const on = loadConfig({
    acmeDirectoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    acmeEmail: 'ops@example.com',
  })
  assert.equal(on.acmeDirectoryUrl, 'https://acme-v02.api.letsencrypt.org/directory')
  assert.equal(on.acmeEmail, 'ops@example.com')
  assert.equal(on.acmeCaFile, undefined)
  assert.equal(
    loadConfig({}, { acmeDirectoryUrl: 'https://127.0.0.1:14000/dir' }).acmeDirectoryUrl,
    'https://127.0.0.1:14000/dir',
  )
  assert.throws(
    () => loadConfig({ acmeDirectoryUrl: 'http://ca.example/dir' }),
    /PALISADE_ACME_DIRECTORY_URL/,
  )
  assert.throws(() => loadConfig({ acmeDirectoryUrl: 'https://u:p@ca.example/dir' }), /without credentials/)
  assert.throws(() => loadConfig({ acmeDirectoryUrl: 'not a url' }), /PALISADE_ACME_DIRECTORY_URL/)
  assert.throws(() => loadConfig({ acmeEmail: 'ops@example.com' }), /PALISADE_ACME_EMAIL.*needs/)
  assert.throws(
    () => loadConfig({ acmeDirectoryUrl: 'https://ca.example/dir', acmeEmail: 'not an address' }),
    /PALISADE_ACME_EMAIL/,
  )
  assert.throws(
    () => loadConfig({ acmeDirectoryUrl: 'https://ca.example/dir', acmeCaFile: '/nonexistent/ca.pem' }),
    /PALISADE_ACME_CA_FILE.*existing PEM file/,
  )
})
