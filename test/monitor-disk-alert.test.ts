import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, statfsSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { assertNotified, startAlertReceiver } from './support/alert-receiver.js'
import { setUpOwner, startPlatform } from './support/platform.js'

const ONCALL = 'oncall@example.com'
/** A file system small enough to fill in a moment, large enough for a platform's data directory. */
const FS_MB = 24

interface AlertView {
  rule: string
  status: string
  subject: string
}

/** Writes `bytes` of zeros to `file` in 1 MiB chunks (a real file taking real blocks: tmpfs does not sparse-fill). */
function fill(file: string, bytes: number): void {
  const chunk = Buffer.alloc(1024 * 1024)
  const fd = openSync(file, 'w')
  try {
    for (let left = bytes; left > 0; left -= chunk.length)
      writeSync(fd, chunk, 0, Math.min(chunk.length, left))
  } finally {
    closeSync(fd)
  }
}

function usedPercent(dir: string): number {
  const fs = statfsSync(dir)
  return ((fs.blocks - fs.bfree) / fs.blocks) * 100
}

/**
 * The disk rule from a real cause: the data directory is a small tmpfs of its own; a file fills it past 90 %,
 * the `disk` alert reaches the operators' e-mail and signed webhook; the file is removed and the alert resolves.
 * The file system is unmounted in a finally, after the platform closed (it holds files open in it).
 */
test(
  'a data directory whose file system fills past 90 % fires the disk alert by e-mail and signed webhook, and freeing it resolves the alert',
  { skip: process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : false },
  async () => {
    const mountPoint = mkdtempSync(path.join(tmpdir(), 'palisade-disk-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_MB}m,mode=0700`, 'tmpfs', mountPoint])
    // The platform's and the receiver's clean-ups run here, before the unmount (in reverse order).
    const afters: Array<() => Promise<void>> = []
    const scope = { after: (fn: () => Promise<void>) => void afters.push(fn) }
    try {
      const dataDir = path.join(mountPoint, 'data')
      const tp = await startPlatform(scope, 'sqlite', { dataDir, webhooksAllowPrivate: 'on' })
      const { platform } = tp
      const { token, workspaceId } = await setUpOwner(tp)
      const receiver = await startAlertReceiver(scope)
      const hook = await tp.call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        token,
        body: { name: 'ops-hook', kind: 'webhook', url: receiver.url },
      })
      assert.equal(hook.statusCode, 201, hook.body)
      receiver.setSecret((hook.json() as { secret: string }).secret)
      const mail = await tp.call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        token,
        body: { name: 'oncall', kind: 'email', email: ONCALL },
      })
      assert.equal(mail.statusCode, 201, mail.body)
      const diskAlerts = async () =>
        (
          (await tp.call('GET', `/v1/workspaces/${workspaceId}/alerts`, { token })).json() as {
            items: AlertView[]
          }
        ).items.filter((a) => a.rule === 'disk')
      const round = async () => {
        await platform.monitor.tick()
        await platform.monitor.tick()
      }

      // A fresh data directory on its own file system: far below the default threshold, nothing fires.
      assert.ok(usedPercent(dataDir) < 50, `the new file system is mostly free (${usedPercent(dataDir)} %)`)
      await round()
      assert.equal((await diskAlerts()).length, 0)

      // Filled to about 95 %: some room is left so that the platform can still write the alert and the e-mail.
      const ballast = path.join(mountPoint, 'ballast')
      const fs = statfsSync(dataDir)
      const target = fs.blocks * fs.bsize * 0.95 - (fs.blocks - fs.bfree) * fs.bsize
      fill(ballast, Math.floor(target))
      assert.ok(usedPercent(dataDir) > 90, `filled (${usedPercent(dataDir)} %)`)
      await round()
      const firing = await diskAlerts()
      assert.equal(firing.length, 1, JSON.stringify(firing))
      assert.equal(firing[0]!.status, 'firing')
      assert.equal(firing[0]!.subject, 'data-dir')
      const n = await assertNotified(receiver, dataDir, ONCALL, 'disk', 'firing', 'data-dir')
      assert.match(n.summary, /the data directory's file system is 9\d\.\d % full/)
      // While it lasts, more rounds send nothing new (the repeat is an hour away).
      await round()
      assert.equal(receiver.notifications().filter((x) => x.rule === 'disk').length, 1)

      // The metric shows the same use.
      const text = await platform.monitor.metrics.render()
      const size = Number(/palisade_data_dir_bytes\{kind="size"\} (\d+)/.exec(text)?.[1])
      const used = Number(/palisade_data_dir_bytes\{kind="used"\} (\d+)/.exec(text)?.[1])
      assert.ok(used / size > 0.9, `palisade_data_dir_bytes used/size ${used}/${size}`)

      // Freed: the alert resolves, by e-mail and webhook.
      rmSync(ballast)
      assert.ok(usedPercent(dataDir) < 50)
      await round()
      const resolved = await diskAlerts()
      assert.equal(resolved.length, 1)
      assert.equal(resolved[0]!.status, 'resolved')
      await assertNotified(receiver, dataDir, ONCALL, 'disk', 'resolved', 'data-dir')
      assert.ok(
        receiver.received.every((r) => r.verdict.ok || r.verdict.reason === 'replay'),
        'every delivery verified',
      )
    } finally {
      for (const fn of afters.reverse()) await fn().catch(() => undefined)
      execFileSync('umount', [mountPoint])
      rmdirSync(mountPoint)
    }
  },
)
