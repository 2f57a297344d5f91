import { Command } from 'commander'
import { loadConfig, settingsFromEnv, SETTINGS, type RawSettings } from '../../config/index.js'

export function serveCommand(): Command {
  const cmd = new Command('serve').description('run the control plane (API), the edge and the scheduler')
  for (const s of SETTINGS) cmd.option(`--${s.flag} <value>`, `${s.help} [${s.env}]`)
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const flags: RawSettings = {}
    for (const s of SETTINGS) {
      const camel = s.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
      if (opts[camel] !== undefined) flags[s.key] = opts[camel]
    }
    const config = loadConfig(settingsFromEnv(), flags)
    const { serve } = await import('../../main.js')
    await serve(config)
  })
  return cmd
}
