/**
 * `palisade serve` from the compiled dist/ (as `npm start` runs it), for benchmarks that measure the real process:
 * the API on `port`, the edge on free loopback ports, warnings only.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import path from 'node:path'
import { REPO } from '../../test/support/processes.js'

export function spawnServe(port: number, env: Record<string, string>, stdio: StdioOptions): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(REPO, 'bin/palisade'), 'serve', '--api-listen', `127.0.0.1:${port}`],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        PALISADE_LOG_LEVEL: 'warn',
        PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
        PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
        ...env,
      },
      stdio,
    },
  )
}
