/** Reported by /v1/health and the CLI. Keep in step with package.json. */
export const VERSION = '0.1.0'
