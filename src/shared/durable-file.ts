import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'

/**
 * Replaces `file` with `text` (mode 0600) so that a crash at any moment leaves the old content or the new,
 * never a torn file: written to a temporary file beside it, flushed to disk, then renamed over it.
 */
export function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}
