import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { Command } from 'commander'
import { createClient } from '../src/cli/client.js'
import { runtimeCommand, runtimesCommand } from '../src/cli/commands/runtime.js'
import { setUpOwner, startPlatform } from './support/platform.js'

test('palisade runtime plan and runtimes list print the plan and the catalog', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const project = (
    await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
  ).json() as { id: string }
  await tp.call('POST', `/v1/projects/${project.id}/environments`, {
    token,
    body: { name: 'main', runtime: 'node@20.11.0' },
  })
  const address = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const configHome = mkdtempSync(path.join(tmpdir(), 'palisade-cli-'))
  t.after(() => rmSync(configHome, { recursive: true, force: true }))

  const run = async (args: string[]): Promise<string[]> => {
    const out: string[] = []
    const deps = {
      client: () =>
        createClient({
          apiUrl: address,
          token,
          workspace: undefined,
          configHome,
          dataDir: undefined,
          signingKey: undefined,
          signingKeyId: undefined,
        }),
      io: { out: (l: string) => out.push(l), err: (l: string) => out.push(l) },
    }
    const program = new Command('palisade').option('--json').exitOverride()
    program.addCommand(runtimeCommand(deps)).addCommand(runtimesCommand(deps))
    await program.parseAsync(args, { from: 'user' })
    return out
  }

  const human = await run(['runtime', 'plan', 'shop/main', '--workspace', 'acme'])
  assert.equal(human[0], 'node@20.11.0 · running 20.11.0')
  assert.match(human[1] ?? '', /none .*20\.11\.0 .*pinned to exactly 20\.11\.0/)
  assert.ok(human.some((l) => l.startsWith('note: security release')))

  const json = JSON.parse(
    (await run(['--json', 'runtime', 'plan', 'shop/main', '--workspace', 'acme'])).join('\n'),
  ) as { setting: string; steps: unknown[] }
  assert.equal(json.setting, 'node@20.11.0')
  assert.equal(json.steps.length >= 1, true)

  const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)
  const held = await run(['runtime', 'postpone', 'shop/main', '--workspace', 'acme', '--until', day])
  assert.ok(held.includes(`Updates postponed until ${day} 00:00 UTC.`), held.join('\n'))
  const cleared = await run(['runtime', 'postpone', 'shop/main', '--workspace', 'acme', '--clear'])
  assert.ok(!cleared.some((l) => l.startsWith('Updates postponed')), cleared.join('\n'))
  await assert.rejects(
    run(['runtime', 'postpone', 'shop/main', '--workspace', 'acme']),
    /--until <date> or --clear/,
  )

  const list = await run(['runtimes', 'list'])
  assert.match(list[0] ?? '', /^RUNTIME\s+MAJOR\s+LATEST\s+RELEASED\s+LTS\s+EOL$/)
  assert.ok(
    list.some((l) => /^node\s+20\s+20\.\d+\.\d+\s+2023-04-18\s+2023-10-24\s+2026-04-30$/.test(l)),
    list.join('\n'),
  )
})
