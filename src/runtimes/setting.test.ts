import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseRuntimeSetting, settingAllows } from './setting.js'

test('a major setting tracks the major', () => {
  const s = parseRuntimeSetting('node@20')
  assert.deepEqual(s, { kind: 'major', runtime: 'node', major: 20, channel: 'stable', text: 'node@20' })
  assert.ok(settingAllows(s, { major: 20, minor: 19, patch: 5 }))
  assert.ok(!settingAllows(s, { major: 22, minor: 0, patch: 0 }))
})

test('a minor setting pins the minor', () => {
  const s = parseRuntimeSetting('node@20.11', 'deprecated')
  assert.deepEqual(s, {
    kind: 'minor',
    runtime: 'node',
    major: 20,
    minor: 11,
    channel: 'deprecated',
    text: 'node@20.11',
  })
  assert.ok(settingAllows(s, { major: 20, minor: 11, patch: 9 }))
  assert.ok(!settingAllows(s, { major: 20, minor: 12, patch: 0 }))
})

test('an exact setting allows only that version', () => {
  const s = parseRuntimeSetting('node@20.11.1')
  assert.equal(s.kind, 'exact')
  assert.ok(settingAllows(s, { major: 20, minor: 11, patch: 1 }))
  assert.ok(!settingAllows(s, { major: 20, minor: 11, patch: 2 }))
})

test('custom images and static sites are recognised and allow no catalog version', () => {
  const c = parseRuntimeSetting('custom:registry.example.com/team/app:1.2@sha256:abc')
  assert.deepEqual(c, {
    kind: 'custom',
    image: 'registry.example.com/team/app:1.2@sha256:abc',
    text: 'custom:registry.example.com/team/app:1.2@sha256:abc',
  })
  assert.ok(!settingAllows(c, { major: 20, minor: 0, patch: 0 }))
  assert.equal(parseRuntimeSetting('static').kind, 'static')
})

test('malformed settings and option-like images are refused', () => {
  for (const bad of [
    'node',
    'node@',
    'node@20.x',
    'node@v20',
    'node@1234567',
    'node@20.1.1.1',
    'custom:',
    'custom:-rm',
    'custom:a b',
    'NODE@20',
    'node@20;id',
  ]) {
    assert.throws(() => parseRuntimeSetting(bad), { code: 'PAL_RUNTIME_SETTING_INVALID' }, bad)
  }
})

test('an unknown channel is refused', () => {
  assert.throws(() => parseRuntimeSetting('node@20', 'beta' as never), {
    code: 'PAL_RUNTIME_SETTING_INVALID',
  })
})

test('leading zeros are read as numbers, as the environment validation allows them', () => {
  assert.deepEqual(parseRuntimeSetting('node@020.01'), {
    kind: 'minor',
    runtime: 'node',
    major: 20,
    minor: 1,
    channel: 'stable',
    text: 'node@020.01',
  })
})
