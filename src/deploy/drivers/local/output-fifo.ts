import { execFileSync } from 'node:child_process'
import { closeSync, constants, existsSync, lstatSync, openSync, rmSync } from 'node:fs'
import { Socket } from 'node:net'
import type { OutputSink } from '../driver.js'

/**
 * An app's output channel that outlives the control plane: a FIFO in a root-only directory. The app writes
 * to it (the fd is handed over at spawn; the app never sees the path), the control plane reads it, and the
 * instance's bridge holds one more read end that it never reads. Without that holder, an app writing to the
 * pipe of a control plane that was killed gets EPIPE and dies (Node apps do at their next `console.log`): a
 * crash of the platform would take every app down with it. While no control plane reads, the app's writes
 * wait in the pipe (64 KiB) and then block until the next control plane adopts the instance and drains them.
 */
export interface OutputFifo {
  readonly path: string
  /** A read end for the holder (the bridge); close it once it was handed to the child. */
  holderFd(): number
  /** A write end for the app (blocking, as programs expect); close it once handed over. */
  writerFd(): number
  /** Stops reading (the FIFO stays for the process still writing to it). */
  detach(): void
  /** Stops reading and removes the FIFO. */
  remove(): void
}

/** Creates (or, after a restart, reopens) the FIFO at `file` and forwards what arrives to `sink`. */
export function openOutputFifo(file: string, sink: OutputSink): OutputFifo {
  if (existsSync(file) && !lstatSync(file).isFIFO()) rmSync(file, { force: true })
  if (!existsSync(file)) execFileSync('mkfifo', ['-m', '600', '--', file], { stdio: 'ignore' })
  // Read-write: this end never sees EOF when a writer goes (a restarted app reopens the same FIFO).
  const fd = openSync(file, constants.O_RDWR | constants.O_NONBLOCK)
  const socket = new Socket({ fd, readable: true, writable: false })
  socket.setEncoding('utf8')
  socket.on('data', (t: string) => sink('stdout', t))
  socket.on('error', () => undefined)
  let closed = false
  const detach = (): void => {
    if (closed) return
    closed = true
    socket.destroy()
  }
  return {
    path: file,
    holderFd: () => openSync(file, constants.O_RDONLY | constants.O_NONBLOCK),
    writerFd: () => openSync(file, constants.O_WRONLY),
    detach,
    remove() {
      detach()
      rmSync(file, { force: true })
    },
  }
}

/** Closes fds handed to a child (errors ignored: the fd may already be gone). */
export function closeFds(...fds: readonly (number | null)[]): void {
  for (const fd of fds)
    if (fd !== null)
      try {
        closeSync(fd)
      } catch {
        // already closed
      }
}
