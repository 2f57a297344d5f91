export type { Config, ListenAddress } from './schema.js'
export { SETTINGS } from './schema.js'
export { DEFAULTS } from './defaults.js'
export { loadConfig, settingsFromEnv, cliEnvironment, type RawSettings, type CliEnvironment } from './load.js'
