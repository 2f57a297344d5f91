import { spawn, type ChildProcess } from 'node:child_process'

/**
 * A forwarder run by root inside an environment's network namespace (nsenter --net only: it sees the
 * host's files, which it never opens by a tenant path). `in` forwards a Unix socket in a root-owned
 * directory (the edge's upstream) to the app's loopback port; `out` forwards a loopback port in the
 * namespace (the tenant's HTTP_PROXY) to the egress gateway's Unix socket. The tenant can reach only
 * its loopback ends, and neither end names a path the tenant can write.
 */
const BRIDGE_SOURCE = `
const net = require('node:net'); const fs = require('node:fs');
const spec = JSON.parse(process.argv[1]);
const pipe = (a, b) => {
  a.pipe(b); b.pipe(a);
  a.on('error', () => b.destroy()); b.on('error', () => a.destroy());
  a.on('close', () => b.destroy()); b.on('close', () => a.destroy());
};
const servers = [];
for (const f of spec) {
  if (f.kind === 'in') {
    try { fs.unlinkSync(f.socket) } catch {}
    const s = net.createServer((c) => pipe(c, net.connect(f.port, '127.0.0.1')));
    s.listen(f.socket, () => fs.chmodSync(f.socket, 0o600));
    servers.push(s);
  } else {
    const s = net.createServer((c) => pipe(c, net.connect(f.socket)));
    s.on('error', (e) => { console.error('egress forwarder: ' + e.message); process.exit(1) });
    s.listen(f.port, '127.0.0.1', () => { if (process.argv[2] === 'notify') process.stdout.write('listening\\n') });
    servers.push(s);
  }
}
process.on('SIGTERM', () => {
  for (const f of spec) if (f.kind === 'in') try { fs.unlinkSync(f.socket) } catch {}
  process.exit(0);
});
`

/**
 * Resolves once a bridge started with `notify` listens (or exits, or after `timeoutMs`): a run must not start
 * before its egress forwarder is there (its first connection would be refused).
 */
export function bridgeListening(bridge: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs)
    function done(): void {
      clearTimeout(timer)
      bridge.stdout?.off('data', onData)
      bridge.stdout?.resume()
      resolve()
    }
    function onData(b: Buffer): void {
      if (b.toString().includes('listening')) done()
    }
    bridge.stdout?.on('data', onData)
    bridge.once('exit', done)
  })
}

export type Forward =
  | { readonly kind: 'in'; readonly socket: string; readonly port: number }
  | { readonly kind: 'out'; readonly port: number; readonly socket: string }

/**
 * Starts a bridge in `netns` (its own process group, so that it can be stopped as a whole). `notify`: it writes
 * `listening` on stdout once its (single `out`) forwarder listens (`bridgeListening`). `marker`: variables that
 * name it in /proc for the process records; `holdFd`: an fd it keeps open for its lifetime (the read end of the
 * app's output FIFO: output-fifo.ts).
 */
export function startBridge(
  netns: string,
  forwards: readonly Forward[],
  execPath: string,
  notify = false,
  marker: Readonly<Record<string, string>> = {},
  holdFd?: number,
): ChildProcess {
  return spawn(
    '/usr/bin/nsenter',
    [
      `--net=/run/netns/${netns}`,
      '--',
      execPath,
      '-e',
      BRIDGE_SOURCE,
      JSON.stringify(forwards),
      ...(notify ? ['notify'] : []),
    ],
    {
      detached: true,
      stdio: holdFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', holdFd],
      shell: false,
      env: { PATH: '/usr/bin:/bin', ...marker },
    },
  )
}
