import type { ChildProcessByStdio } from 'node:child_process'
import { connect } from 'node:net'
import { Duplex, type Readable, type Writable } from 'node:stream'
import type { Instance } from './engines/engine.js'
import { spawnService, type RunAs } from './exec.js'

/** Byte the forwarder writes once it is connected: everything after it is the server's. */
const CONNECTED = 1

/**
 * Run inside the sandbox: connects to the socket named by its argument and copies bytes both ways.
 * Plain Node (the same binary as the control plane, under /usr), no file of the platform needed.
 */
const FORWARDER = [
  "const s = require('net').connect(process.argv[1])",
  "s.on('connect', () => { process.stdout.write(Buffer.from([1])); s.pipe(process.stdout); process.stdin.pipe(s) })",
  "s.on('error', (e) => { process.stderr.write(String(e.message)); process.exit(2) })",
  "s.on('close', () => process.exit(0))",
].join(';')

/**
 * A connection to a service's Unix socket made from inside the environment's sandbox. Why: the socket
 * lives in a directory the environment's user owns; a root `connect()` there would follow whatever link a
 * compromised server planted (to the host's own database sockets, say). In the sandbox the path can only
 * lead to the environment's own services. Behaves enough like `net.Socket` for `pg` and the RESP client.
 */
export class SandboxedSocket extends Duplex {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null
  private connected = false

  constructor(
    private readonly runAs: RunAs,
    private readonly socketPath: string,
    private readonly cwd: string,
  ) {
    super()
  }

  /** Starts the forwarder; emits 'connect' when it reached the server. Arguments (pg's) are ignored. */
  connect(..._ignored: unknown[]): this {
    if (this.child) return this
    const c = spawnService([process.execPath, '-e', FORWARDER, this.socketPath], {
      runAs: this.runAs,
      cwd: this.cwd,
    })
    this.child = c
    let stderr = ''
    c.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-500)))
    c.stdin.on('error', () => undefined)
    c.on('error', (e) => this.destroy(e))
    c.stdout.on('data', (chunk: Buffer) => {
      let data = chunk
      if (!this.connected) {
        if (data[0] !== CONNECTED) {
          this.destroy(new Error(`unexpected output from the socket forwarder`))
          return
        }
        this.connected = true
        data = data.subarray(1)
        this.emit('connect')
        if (data.length === 0) return
      }
      if (!this.push(data)) c.stdout.pause()
    })
    c.on('close', (code) => {
      if (!this.connected) {
        this.destroy(new Error(`cannot connect to ${this.socketPath}: ${stderr.trim() || `exit ${code}`}`))
        return
      }
      this.push(null)
      this.end()
    })
    return this
  }

  setNoDelay(): this {
    return this
  }

  setKeepAlive(): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }

  override _read(): void {
    this.child?.stdout.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.child) {
      callback(new Error('not connected'))
      return
    }
    this.child.stdin.write(chunk, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child?.stdin.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const c = this.child
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    callback(error)
  }
}

/** Opens a new connection to `socketPath` of the instance: through its sandbox when it has one. */
export function serviceConnector(inst: Instance, socketPath: string): () => Duplex {
  const runAs = inst.runAs
  if (runAs?.sandbox) return () => new SandboxedSocket(runAs, socketPath, inst.dir).connect()
  return () => connect(socketPath)
}
