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
    s.listen(f.port, '127.0.0.1');
    servers.push(s);
  }
}
process.on('SIGTERM', () => {
  for (const f of spec) if (f.kind === 'in') try { fs.unlinkSync(f.socket) } catch {}
  process.exit(0);
});
`

export type Forward =
  | { readonly kind: 'in'; readonly socket: string; readonly port: number }
  | { readonly kind: 'out'; readonly port: number; readonly socket: string }

/** Starts a bridge in `netns` (its own process group, so that it can be stopped as a whole). */
export function startBridge(
  netns: string,
  forwards: readonly Forward[],
  execPath: string,
  marker: Readonly<Record<string, string>> = {},
  /** An fd the bridge keeps open for its lifetime (the read end of the app's output FIFO: output-fifo.ts). */
  holdFd?: number,
): ChildProcess {
  return spawn(
    'nsenter',
    [`--net=/run/netns/${netns}`, '--', execPath, '-e', BRIDGE_SOURCE, JSON.stringify(forwards)],
    {
      detached: true,
      stdio: holdFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', holdFd],
      shell: false,
      env: { PATH: '/usr/bin:/bin', ...marker },
    },
  )
}
