import { Command } from 'commander'
import { loadConfig, settingsFromEnv } from '../../config/index.js'
import { kubeClientFor } from '../../deploy/index.js'
import { runDoctor, runKubernetesDoctor, type CheckResult } from '../../doctor/index.js'
import { print } from '../output.js'

/**
 * `palisade doctor`: what this host gives Palisade (isolation, store, WAF rules, service binaries) and
 * whether the host itself is patched. Reads the same settings as `palisade serve`; changes nothing.
 * Exits 1 when a check fails (warnings do not fail).
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'check this host: isolation, data dir, store, WAF rules, service binaries, pending security updates',
    )
    .option(
      '--kubernetes',
      'check the cluster instead (KUBECONFIG or in-cluster): permissions, a dry-run, NetworkPolicy enforcement with a canary',
    )
    .action(async (opts: { kubernetes?: boolean }, cmd: Command) => {
      const config = loadConfig(settingsFromEnv())
      const results = opts.kubernetes
        ? await runKubernetesDoctor({ client: kubeClientFor(config) })
        : await runDoctor({ config })
      print(cmd, results, [
        ['CHECK', (r: CheckResult) => r.check],
        ['STATUS', (r: CheckResult) => r.status],
        ['DETAIL', (r: CheckResult) => r.detail],
      ])
      if (results.some((r) => r.status === 'fail')) process.exitCode = 1
    })
}
