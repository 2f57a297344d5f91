import { Command } from 'commander'
import { loadConfig, settingsFromEnv } from '../../config/index.js'
import type { CheckResult } from '../../doctor/index.js'
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
    .option(
      '--stop-leftovers',
      'stop every process Palisade started on this data dir (only while palisade serve is not running; for the service manager)',
    )
    .action(async (opts: { kubernetes?: boolean; stopLeftovers?: boolean }, cmd: Command) => {
      const config = loadConfig(settingsFromEnv())
      // Loaded when the command runs: the checks need most of the platform, which other commands do not.
      const [{ runDoctor, runKubernetesDoctor, stopLeftovers }, { kubeClientFor }, { edgePaths }] =
        await Promise.all([
          import('../../doctor/index.js'),
          import('../../deploy/index.js'),
          import('../../edge/index.js'),
        ])
      if (opts.stopLeftovers) {
        const r = await stopLeftovers(config)
        if (r.refused) {
          process.stderr.write(`palisade doctor: ${r.refused}\n`)
          process.exitCode = 1
        } else process.stdout.write(`stopped ${r.stopped} process(es) Palisade had started\n`)
        return
      }
      const results = opts.kubernetes
        ? await runKubernetesDoctor({ client: kubeClientFor(config) })
        : await runDoctor({ config, localCaCert: edgePaths(config.dataDir).caCert })
      print(cmd, results, [
        ['CHECK', (r: CheckResult) => r.check],
        ['STATUS', (r: CheckResult) => r.status],
        ['DETAIL', (r: CheckResult) => r.detail],
      ])
      if (results.some((r) => r.status === 'fail')) process.exitCode = 1
    })
}
