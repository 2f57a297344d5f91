import { createInterface } from 'node:readline'

/** Reads one line from stdin (all of it when not a TTY: `--password-stdin` style). */
export async function readStdinLine(): Promise<string> {
  return (await readStdinLines())[0] ?? ''
}

let stdinLines: Promise<string[]> | undefined
/** All lines of stdin, read once (`login --password-stdin` takes the password, then a 2FA code when asked). */
export function readStdinLines(): Promise<string[]> {
  stdinLines ??= (async () => {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
  })()
  return stdinLines
}

/** Asks a question on the terminal; `secret` turns echo off. */
export function ask(question: string, secret = false): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY === true,
    })
    if (secret && process.stdin.isTTY) {
      const write = rl as unknown as { _writeToOutput: (s: string) => void }
      write._writeToOutput = (s: string) => {
        if (s.startsWith(question)) process.stderr.write(question)
      }
    }
    rl.question(question, (answer) => {
      rl.close()
      if (secret && process.stdin.isTTY) process.stderr.write('\n')
      resolve(answer)
    })
  })
}
