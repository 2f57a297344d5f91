import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Bytes of regular files below `dir` (symlinks are not followed). */
export function directoryBytes(dir: string): number {
  let total = 0
  const stack = [dir]
  while (stack.length > 0) {
    const d = stack.pop() as string
    let names: string[]
    try {
      names = readdirSync(d)
    } catch {
      continue
    }
    for (const name of names) {
      const p = path.join(d, name)
      try {
        const st = lstatSync(p)
        if (st.isDirectory()) stack.push(p)
        else if (st.isFile()) total += st.size
      } catch {
        // removed while walking
      }
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
