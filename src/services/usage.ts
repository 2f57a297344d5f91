import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs'

const DIRECTORY_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW
/** Deeper trees are counted down to this depth (each level holds one open descriptor). */
const MAX_DEPTH = 64

/**
 * Bytes of regular files below `dir`, never following a link. The tree belongs to a tenant, who may swap a
 * directory for a link while root walks it; so each directory is opened (O_NOFOLLOW) through its parent's
 * open descriptor (`/proc/self/fd/N/name`, the equivalent of openat), and names are listed and measured through
 * that descriptor: a swap makes the open fail instead of counting a directory outside the tree.
 */
export function directoryBytes(dir: string): number {
  let fd: number
  try {
    fd = openSync(dir, DIRECTORY_NOFOLLOW)
  } catch {
    return 0
  }
  try {
    return bytesBelow(fd, 0)
  } finally {
    closeSync(fd)
  }
}

function bytesBelow(dirFd: number, depth: number): number {
  const base = `/proc/self/fd/${dirFd}`
  let names: string[]
  try {
    names = readdirSync(base)
  } catch {
    return 0
  }
  let total = 0
  for (const name of names) {
    const p = `${base}/${name}`
    try {
      const st = lstatSync(p)
      if (st.isFile()) total += st.size
      else if (st.isDirectory() && depth < MAX_DEPTH) {
        const child = openSync(p, DIRECTORY_NOFOLLOW)
        try {
          total += bytesBelow(child, depth + 1)
        } finally {
          closeSync(child)
        }
      }
    } catch {
      // removed or swapped while walking
    }
  }
  return total
}

/**
 * Resident memory of a process group (the server and its workers, e.g. PostgreSQL's backends), from
 * /proc. Null where /proc is not available.
 */
export function groupRssBytes(pgid: number): number | null {
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return null
  }
  const page = 4096
  let total = 0
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(rest[2]) !== pgid) continue
      const statm = readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')
      total += Number(statm[1]) * page
    } catch {
      // exited meanwhile
    }
  }
  return total
}
