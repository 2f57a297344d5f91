import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareVersions, getVersion, parseVersion } from './semver.js'

test('parseVersion reads plain release versions', () => {
  assert.deepEqual(parseVersion('20.11.1'), { major: 20, minor: 11, patch: 1 })
  assert.deepEqual(parseVersion('0.8.6'), { major: 0, minor: 8, patch: 6 })
})

test('parseVersion refuses pre-releases, prefixes, partial versions and leading zeros', () => {
  for (const bad of ['4.1.0-pkg1', 'v20.1.0', '20.1', '20.01.1', '', '20.1.1 ', '1.2.3.4', '9999999.0.0']) {
    assert.equal(parseVersion(bad), undefined, bad)
  }
})

test('getVersion throws an invalid error naming the code', () => {
  assert.throws(() => getVersion('x'), { code: 'PAL_RUNTIME_VERSION_INVALID', kind: 'invalid' })
})

test('compareVersions orders numerically, not as text', () => {
  const sorted = ['20.9.0', '20.10.0', '20.1.10', '20.1.2', '18.20.8'].map(getVersion).sort(compareVersions)
  assert.deepEqual(
    sorted.map((v) => `${v.major}.${v.minor}.${v.patch}`),
    ['18.20.8', '20.1.2', '20.1.10', '20.9.0', '20.10.0'],
  )
})
