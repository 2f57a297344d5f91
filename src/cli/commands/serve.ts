import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import { loadConfig, settingsFromEnv, SETTINGS, type RawSettings } from '../../config/index.js'

const ROLES = ['control', 'edge-worker'] as const
type Role = (typeof ROLES)[number]

/**
 * `palisade serve`: a small supervisor that owns the edge's listening sockets and runs the control plane
 * (API, deployer, schedulers) and `--edge-workers` edge worker processes, restarting whichever dies. The
 * children run this same command (src/cli/serve-child.ts) with the hidden `--internal-role` option.
 */
export function serveCommand(): Command {
  const cmd = new Command('serve').description(
    'run the control plane (API), the edge worker processes and the scheduler',
  )
  for (const s of SETTINGS) cmd.option(`--${s.flag} <value>`, `${s.help} [${s.env}]`)
  cmd.addOption(new Option('--internal-role <role>').choices(ROLES).hideHelp())
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const flags: RawSettings = {}
    for (const s of SETTINGS) {
      const camel = s.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
      if (opts[camel] !== undefined) flags[s.key] = opts[camel]
    }
    const config = loadConfig(settingsFromEnv(), flags)
    const role = opts['internalRole'] as Role | undefined
    if (role === 'control') {
      const { serve } = await import('../../main.js')
      await serve(config, 'control')
      return
    }
    if (role === 'edge-worker') {
      const { serveEdgeWorker } = await import('../../serve-edge-worker.js')
      await serveEdgeWorker(config)
      return
    }
    // The supervisor imports only what it needs: it must stay small and hard to break.
    const { runSupervisor } = await import('../../edge/workers/supervisor.js')
    // An upgrade's move of the local CA (<data>/edge/edge → <data>/edge) happens before any worker opens it;
    // the control plane's own call then finds nothing left to move.
    const { moveLegacyEdgeFiles } = await import('../../edge/edge-paths.js')
    const movedEdge = await moveLegacyEdgeFiles(config.dataDir)
    // The children run only the serve command (src/cli/serve-child.ts, .js once compiled) with these flags.
    const self = fileURLToPath(import.meta.url)
    const script = path.join(path.dirname(self), '..', `serve-child${path.extname(self)}`)
    const argv = process.argv.slice(2)
    const args = argv.slice(argv.indexOf('serve') + 1)
    runSupervisor({
      workers: config.edgeWorkers,
      script,
      controlArgs: [...args, '--internal-role', 'control'],
      workerArgs: [...args, '--internal-role', 'edge-worker'],
      statusFile: path.join(config.dataDir, 'edge-workers.json'),
      redisUrl: config.redisUrl,
      log: (level, msg, fields) => {
        if (level === 'info' && config.logLevel !== 'info' && config.logLevel !== 'debug') return
        process.stderr.write(
          JSON.stringify({ level, time: Date.now(), pid: process.pid, role: 'supervisor', ...fields, msg }) +
            '\n',
        )
      },
    })
    if (movedEdge.moved.length > 0 || movedEdge.kept.length > 0)
      process.stderr.write(
        JSON.stringify({ level: 'info', role: 'supervisor', ...movedEdge, msg: 'legacy edge files moved' }) +
          '\n',
      )
  })
  return cmd
}
