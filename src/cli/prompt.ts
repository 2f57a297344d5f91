import { createInterface } from 'node:readline'
import { UsageError } from './resolve.js'

let stdinLines: Promise<string[]> | undefined
let cursor = 0

/** All lines of stdin, read once (for piped input: answers one per line, in the order asked). */
function readStdinLines(): Promise<string[]> {
  stdinLines ??= (async () => {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
  })()
  return stdinLines
}

/**
 * The next line of standard input (`--password-stdin` style): a piped stdin answers the CLI's questions one
 * line each, in the order they are asked (`setup`: password, then its confirmation; `login`: password, then
 * the 2FA code when the account has 2FA on).
 */
export async function readStdinLine(): Promise<string> {
  const lines = await readStdinLines()
  return lines[cursor++] ?? ''
}

/** Asks a question on the terminal; `secret` turns echo off. Without a terminal the next stdin line answers. */
export async function ask(question: string, secret = false): Promise<string> {
  if (!process.stdin.isTTY) {
    process.stderr.write(question + '\n')
    return readStdinLine()
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    if (secret) {
      const write = rl as unknown as { _writeToOutput: (s: string) => void }
      write._writeToOutput = (s: string) => {
        if (s.startsWith(question)) process.stderr.write(question)
      }
    }
    rl.question(question, (answer) => {
      rl.close()
      if (secret) process.stderr.write('\n')
      resolve(answer)
    })
  })
}

/**
 * A new password, typed twice (a typo in a password nobody can see would lock the owner out). With
 * `--password-stdin` the first line is the password and a second line, when given, must repeat it.
 */
export async function askNewPassword(
  fromStdin: boolean,
  label = 'Password (12+ characters, not guessable): ',
): Promise<string> {
  const first = fromStdin ? await readStdinLine() : await ask(label, true)
  if (!first) throw new UsageError('a password is required')
  const again = fromStdin ? await readStdinLine() : await ask('Again, to confirm: ', true)
  if ((fromStdin ? again !== '' : true) && again !== first)
    throw new UsageError('the two passwords differ; nothing was changed, run the command again')
  return first
}
