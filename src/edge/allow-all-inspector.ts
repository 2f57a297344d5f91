import type { Inspector } from './types.js'

/**
 * An inspector that allows everything. For the edge's own tests and benchmarks only: the composition root
 * always passes the real WAF, which cannot be switched off.
 */
export const allowAllInspector: Inspector = () => ({ action: 'allow' })
