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

test('a driver that is not built is refused at start with the setting named', () => {
  assert.throws(() => loadConfig({ driver: 'kubernetes' }), /PALISADE_DRIVER.*not available/)
  assert.throws(() => loadConfig({ driver: 'docker' }), /PALISADE_DRIVER.*must be local or kubernetes/)
})
