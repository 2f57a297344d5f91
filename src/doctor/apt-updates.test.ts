import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAptUpgradable } from './apt-updates.js'

test('apt list --upgradable: security suites are told apart, noise is ignored', () => {
  const output = [
    'Listing...',
    'WARNING: apt does not have a stable CLI interface. Use with caution in scripts.',
    'appstream/oldstable 0.16.1-2+b1 amd64 [upgradable from: 0.16.1-2]',
    'apt/oldstable-security 2.6.2 amd64 [upgradable from: 2.6.1]',
    'libssl3/bookworm-security,bookworm-updates 3.0.17-1~deb12u3 amd64 [upgradable from: 3.0.15-1~deb12u1]',
    'tzdata/stable-updates 2025b-0+deb12u1 all [upgradable from: 2024a-0+deb12u1]',
    'newpkg/stable 1.0 all',
    '',
    'garbage line',
  ].join('\n')
  const updates = parseAptUpgradable(output)
  assert.deepEqual(
    updates.map((u) => [u.name, u.security]),
    [
      ['appstream', false],
      ['apt', true],
      ['libssl3', true],
      ['tzdata', false],
      ['newpkg', false],
    ],
  )
  assert.deepEqual(updates[2]!.suites, ['bookworm-security', 'bookworm-updates'])
  assert.equal(updates[2]!.from, '3.0.15-1~deb12u1')
  assert.equal(updates[4]!.from, null)
  assert.deepEqual(parseAptUpgradable(''), [])
})
