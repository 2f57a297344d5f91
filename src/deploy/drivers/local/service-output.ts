import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'

/** Past this size (bytes) a server's output file is moved to `.log.1` (replacing it) and emptied. */
export const SERVICE_OUTPUT_CAP = 1024 * 1024

const ID_SHAPE = /^[A-Za-z0-9_-]{1,100}$/

/**
 * Output of service servers (MariaDB, PostgreSQL, Redis), kept where a control-plane crash cannot take it
 * (docs/crash-safety.md): `<data>/sandboxes/processes/<environment>/service-<id>.log` in the root-only
 * records directory. The server gets the file as its stdout and stderr at spawn (an append-only descriptor;
 * it never sees the path), so it keeps writing there after the control plane that started it died, and the
 * next control plane, which adopts it, reads the same file: nothing is lost, nothing is read twice (the file
 * is the log; nothing copies it elsewhere). The control plane caps it: past `capBytes` the file is copied
 * to `.log.1` and emptied (the server's appends go on at the new end: O_APPEND). Every open is O_NOFOLLOW in
 * a directory only root can write.
 */
export function createServiceOutput(dataDir: string, capBytes: number = SERVICE_OUTPUT_CAP) {
  const root = path.join(dataDir, 'sandboxes', 'processes')
  const fileOf = (environmentId: string, serviceId: string): string => {
    if (!ID_SHAPE.test(environmentId) || !ID_SHAPE.test(serviceId))
      throw new Error('not an environment or service id')
    return path.join(root, environmentId, `service-${serviceId}.log`)
  }
  const ensureDir = (d: string): void => {
    mkdirSync(path.dirname(path.dirname(d)), { recursive: true, mode: 0o700 })
    mkdirSync(path.dirname(d), { recursive: true, mode: 0o700 })
    mkdirSync(d, { recursive: true, mode: 0o700 })
  }
  /** Opens `file` without following a link; a directory entry that is not a plain file is refused. */
  const openPlain = (file: string, flags: number, mode = 0o600): number => {
    const fd = openSync(file, flags | constants.O_NOFOLLOW, mode)
    const st = fstatSync(fd)
    if (!st.isFile() || st.nlink !== 1) {
      closeSync(fd)
      throw new Error(`${file} is not a plain file`)
    }
    return fd
  }
  const sizeOf = (file: string): number => {
    let fd: number
    try {
      fd = openPlain(file, constants.O_RDONLY)
    } catch {
      return 0
    }
    try {
      return fstatSync(fd).size
    } finally {
      closeSync(fd)
    }
  }
  /**
   * The last `max` bytes of `file` from `from` on, empty when there is no such file; `cut` when bytes before
   * them (after `from`) were left out.
   */
  const readFrom = (file: string, from: number, max: number): { buf: Buffer; cut: boolean } => {
    const { buf, start, first } = readRange(file, from, max)
    return { buf, cut: start > first }
  }
  /** The bytes of `file` from `start` (at least `from`, or 0 when the file is shorter now) to its end, at most `max`. */
  const readRange = (
    file: string,
    from: number,
    max: number,
  ): { buf: Buffer; start: number; first: number } => {
    let fd: number
    try {
      fd = openPlain(file, constants.O_RDONLY)
    } catch {
      return { buf: Buffer.alloc(0), start: 0, first: 0 }
    }
    try {
      const size = fstatSync(fd).size
      // A file emptied by the cap since `from` was taken: all of it is new.
      const first = from > size ? 0 : from
      const start = Math.max(first, size - max, 0)
      const buf = Buffer.alloc(Math.max(0, size - start))
      let got = 0
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, start + got)
        if (n === 0) break
        got += n
      }
      return { buf: buf.subarray(0, got), start, first }
    } finally {
      closeSync(fd)
    }
  }
  return {
    capBytes,
    /** The file's path (tests and `doctor`; never handed to the server). */
    pathOf: fileOf,
    /** A descriptor appending to the service's output file (created 0600 root), for the server's stdout/stderr. */
    open(environmentId: string, serviceId: string): number {
      const file = fileOf(environmentId, serviceId)
      ensureDir(path.dirname(file))
      return openPlain(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT)
    },
    /** The current file's size (where a server started now begins to write). */
    size(environmentId: string, serviceId: string): number {
      return sizeOf(fileOf(environmentId, serviceId))
    },
    /**
     * The last `maxBytes` of the service's output (the rotated file's end, then the current file), from
     * `from` on in the current file when given (a server's own output since its start). Starts at a line.
     */
    read(environmentId: string, serviceId: string, maxBytes: number, from?: number): string {
      const file = fileOf(environmentId, serviceId)
      const current = readFrom(file, from ?? 0, maxBytes)
      const older =
        from === undefined && !current.cut && current.buf.length < maxBytes
          ? readFrom(`${file}.1`, 0, maxBytes - current.buf.length)
          : { buf: Buffer.alloc(0), cut: false }
      const text = Buffer.concat([older.buf, current.buf]).toString('utf8')
      // Cut in the middle of a line (or of a character): that partial line is left out.
      const cut = older.buf.length > 0 ? older.cut : current.cut
      return cut && text.includes('\n') ? text.slice(text.indexOf('\n') + 1) : text
    },
    /**
     * What was written to the current file since byte `from` (at most the last `maxBytes` of it), and where the
     * next read starts. A file emptied by the cap since `from` (it is shorter now) is read from its start.
     */
    readSince(
      environmentId: string,
      serviceId: string,
      from: number,
      maxBytes: number,
    ): { buf: Buffer; next: number } {
      const { buf, start } = readRange(fileOf(environmentId, serviceId), from, maxBytes)
      return { buf, next: start + buf.length }
    },
    /**
     * Past the cap: the file is copied to `.log.1` and emptied in place (the server keeps its descriptor;
     * what it writes between the copy and the truncation, a few bytes at most, is lost). True when it cut.
     */
    cap(environmentId: string, serviceId: string): boolean {
      const file = fileOf(environmentId, serviceId)
      let fd: number
      try {
        fd = openPlain(file, constants.O_RDWR)
      } catch {
        return false
      }
      try {
        const size = fstatSync(fd).size
        if (size <= capBytes) return false
        // The newest `capBytes` are kept in `.1`: a server that wrote far past the cap between two checks
        // does not make the rotated file bigger than the cap.
        const keep = readFrom(file, 0, capBytes).buf
        const older = openPlain(`${file}.1`, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC)
        try {
          let written = 0
          while (written < keep.length) written += writeSync(older, keep, written, keep.length - written)
        } finally {
          closeSync(older)
        }
        ftruncateSync(fd, 0)
        return true
      } finally {
        closeSync(fd)
      }
    },
    /** Removes the service's output files (the service was deleted with its data). */
    remove(environmentId: string, serviceId: string): void {
      const file = fileOf(environmentId, serviceId)
      rmSync(file, { force: true })
      rmSync(`${file}.1`, { force: true })
    },
  }
}
export type ServiceOutput = ReturnType<typeof createServiceOutput>
