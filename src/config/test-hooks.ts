/**
 * Test seams of `palisade serve` that no installation sets, read only with `PALISADE_TEST_HOOKS=1` (like
 * crash points): a stray variable alone does nothing.
 *
 * - `PALISADE_TEST_DNS_SERVER=<ip>:<port>`: custom domains' DNS TXT proofs ask this server (a test's DNS
 *   responder) instead of the system's resolvers.
 * - `PALISADE_TEST_ACME_RETRY_MS=<ms>`: the first retry delay of a failed ACME order (default 1 minute).
 */
export interface TestHooks {
  readonly dnsServer?: string
  readonly acmeRetryMs?: number
}

export function testHooksFromEnv(env: NodeJS.ProcessEnv = process.env): TestHooks {
  if (env['PALISADE_TEST_HOOKS'] !== '1') return {}
  const dns = env['PALISADE_TEST_DNS_SERVER']
  const retry = Number(env['PALISADE_TEST_ACME_RETRY_MS'])
  return {
    ...(dns && /^[0-9.]+:[0-9]{1,5}$/.test(dns) ? { dnsServer: dns } : {}),
    ...(Number.isInteger(retry) && retry > 0 ? { acmeRetryMs: retry } : {}),
  }
}
