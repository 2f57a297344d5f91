import { Command } from 'commander'
import { createClient } from '../client.js'
import { print } from '../output.js'
import { resolveWorkspace, UsageError } from '../resolve.js'

interface Report {
  actions: string[]
  restrictedEnvironments: number
  revokedSessions: number
  revokedTokens: number
  withdrawnInvitations: number
  notified: number
}

const ACTIONS = ['restrict', 'revoke-credentials', 'require-mfa', 'notify'] as const

/** `palisade incident declare`: POST /v1/workspaces/:ws/incidents. */
export function incidentCommand(): Command {
  const cmd = new Command('incident').description('incident response for a workspace (owners and admins)')
  cmd
    .command('declare')
    .description('restrict environments, revoke credentials, require 2FA and/or notify every member')
    .option('--workspace <name>', 'workspace name or id')
    .requiredOption('--reason <text>', 'why (goes to the audit log and the e-mails)')
    .option('--restrict', 'every environment into maintenance (the edge answers 503)')
    .option('--revoke-credentials', "end every member's sessions and API tokens (yours excepted)")
    .option('--require-mfa', 'require two-factor authentication in the workspace from now on')
    .option('--notify', 'e-mail every member')
    .action(async (o: Record<string, string | boolean | undefined>, c: Command) => {
      const flags: Record<(typeof ACTIONS)[number], string> = {
        restrict: 'restrict',
        'revoke-credentials': 'revokeCredentials',
        'require-mfa': 'requireMfa',
        notify: 'notify',
      }
      const actions = ACTIONS.filter((a) => o[flags[a]] === true)
      if (actions.length === 0)
        throw new UsageError(
          'name at least one action: --restrict, --revoke-credentials, --require-mfa, --notify',
        )
      const client = createClient()
      const ws = await resolveWorkspace(client, c.optsWithGlobals<{ workspace?: string }>().workspace)
      const report = await client.request<Report>('POST', `/v1/workspaces/${ws}/incidents`, {
        actions,
        reason: o['reason'],
      })
      print(c, report, [
        ['actions', (r: Report) => r.actions.join(',')],
        ['environments restricted', (r: Report) => r.restrictedEnvironments],
        ['sessions ended', (r: Report) => r.revokedSessions],
        ['tokens revoked', (r: Report) => r.revokedTokens],
        ['invitations withdrawn', (r: Report) => r.withdrawnInvitations],
        ['members notified', (r: Report) => r.notified],
      ])
    })
  return cmd
}
