import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { systemClock } from '../../shared/clock.js'
import { shippedCatalog } from '../catalog/catalog.js'
import { createRuntimePins } from './runtime-pins.js'

test('a pin to the exact version of the node running Palisade uses that node: no download', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palisade-pins-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  // An unreachable registry: any download attempt fails.
  const pins = createRuntimePins({
    dataDir,
    catalog: shippedCatalog,
    clock: systemClock,
    registry: 'http://127.0.0.1:9',
    hostNode: { version: '20.99.0', binDir: '/opt/host-node/bin' },
  })
  assert.deepEqual(await pins.prepare('20.99.0'), { binDir: '/opt/host-node/bin', cached: true })
  await assert.rejects(pins.prepare('20.19.5'), 'another version is installed from the registry')
  assert.match(pins.resolve('node@20') ?? '', /^20\.\d+\.\d+$/)
  assert.equal(pins.resolve('node@20.11.1'), '20.11.1')
  assert.equal(pins.resolve('static'), null)
})
