import { serveCommand } from './commands/serve.js'

/**
 * What `palisade serve`'s supervisor starts for the control plane and each edge worker: only the serve
 * command (with its hidden `--internal-role`), not the whole CLI, so that a restart loads less.
 */
await serveCommand().parseAsync(process.argv.slice(2), { from: 'user' })
