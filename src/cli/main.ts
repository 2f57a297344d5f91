import { Command, CommanderError } from 'commander'
import { VERSION } from '../version.js'
import { ApiError } from './client.js'
import { passwordCommand, twoFactorCommand } from './commands/account.js'
import { auditCommand } from './commands/audit.js'
import { caCommand } from './commands/ca.js'
import { accessCommand, addWafEnvironmentCommands } from './commands/env-settings.js'
import { backupCommand } from './commands/backup.js'
import { deployCommand } from './commands/deploy.js'
import { doctorCommand } from './commands/doctor.js'
import { incidentCommand } from './commands/incident.js'
import { jobsCommand } from './commands/jobs.js'
import { logsCommand } from './commands/logs.js'
import { invitationsCommand } from './commands/invitations.js'
import { membersCommand } from './commands/members.js'
import { runtimeCommand, runtimesCommand } from './commands/runtime.js'
import { sshKeysCommand } from './commands/ssh-keys.js'
import { domainsCommand } from './commands/domains.js'
import { tokensCommand } from './commands/tokens.js'
import { wafCommand } from './commands/waf.js'
import { rollbackCommand } from './commands/rollback.js'
import { clearFailedCommand, deploymentsCommand, statusCommand } from './commands/status.js'
import { envsCommand } from './commands/envs.js'
import { loginCommand, logoutCommand, whoamiCommand } from './commands/login.js'
import { projectsCommand } from './commands/projects.js'
import { serveCommand } from './commands/serve.js'
import { servicesCommand } from './commands/services.js'
import { setupCommand } from './commands/setup.js'
import { anonymizationCommand, syncCommand } from './commands/sync.js'
import { varsCommand } from './commands/vars.js'
import { workspacesCommand } from './commands/workspaces.js'
import { stdio } from './output.js'
import { UsageError } from './resolve.js'

/** Exit codes scripts can rely on: 0 ok, 1 the API or a check said no, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

export function buildProgram(): Command {
  const program = new Command('palisade')
    .description('Palisade: a self-hosted, security-first PaaS')
    .version(VERSION)
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride()
  for (const c of [
    serveCommand(),
    setupCommand(),
    loginCommand(),
    logoutCommand(),
    whoamiCommand(),
    passwordCommand(),
    twoFactorCommand(),
    tokensCommand(),
    sshKeysCommand(),
    workspacesCommand(),
    membersCommand(),
    invitationsCommand(),
    projectsCommand(),
    envsCommand(),
    varsCommand(),
    domainsCommand(),
    deployCommand(),
    rollbackCommand(),
    deploymentsCommand(),
    statusCommand(),
    clearFailedCommand(),
    logsCommand(),
    jobsCommand(),
    servicesCommand(),
    backupCommand(),
    syncCommand(),
    anonymizationCommand(),
    runtimeCommand(),
    runtimesCommand(),
    addWafEnvironmentCommands(wafCommand()),
    accessCommand(),
    auditCommand(),
    doctorCommand(),
    caCommand(),
    incidentCommand(),
  ]) {
    program.addCommand(c)
  }
  const exitOverride = (c: Command): void => {
    c.exitOverride()
    c.commands.forEach(exitOverride)
  }
  exitOverride(program)
  return program
}

/**
 * One readable line for an API error: the server's sentence, the fields it names, what to do next where the
 * CLI knows (sign in again, wait), then the code, status and request id for a bug report.
 */
export function describeApiError(error: ApiError): string {
  const field =
    error.details.length > 0 ? ` [${error.details.map((d) => `${d.field}: ${d.message}`).join('; ')}]` : ''
  let next = ''
  if (error.status === 401 && error.code !== 'invalid_credentials' && error.code !== 'totp_required')
    next = '; sign in with `palisade login` (or set PALISADE_TOKEN)'
  else if (error.status === 429)
    next = error.retryAfter === undefined ? '; wait a moment and retry' : `; retry in ${error.retryAfter} s`
  return `error: ${error.message}${field}${next} (${error.code}${error.status ? `, HTTP ${error.status}` : ''}${error.requestId ? `, request ${error.requestId}` : ''})`
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.ok
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (error instanceof UsageError) {
      stdio.err(`error: ${error.message}`)
      return EXIT.usage
    }
    if (error instanceof ApiError) {
      stdio.err(describeApiError(error))
      return EXIT.failed
    }
    const e = error as { message?: string; code?: string; path?: string; syscall?: string }
    // A file named on the command line that is not there (or not readable) is a usage error: say which.
    if ((e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') && typeof e.path === 'string') {
      stdio.err(
        `error: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : 'not readable'}: ${e.path}`,
      )
      return EXIT.usage
    }
    stdio.err(`error: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`)
    return EXIT.failed
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href
if (isMain) {
  void runCli(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exitCode = code
  })
}
