import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** ../shared/crs-3.3.4 beside the repository (the CRS regression data; not part of the repo). */
export const CRS_TESTS_ROOT = fileURLToPath(new URL('../../../shared/crs-3.3.4', import.meta.url))
/** PALISADE_CRS_TESTS_DIR (the coreruleset repository's tests/regression/tests at v3.3.4), else ../shared's copy. */
export const CRS_TESTS_DIR = process.env['PALISADE_CRS_TESTS_DIR'] ?? `${CRS_TESTS_ROOT}/regression/tests`
/** Debian's modsecurity-crs, or PALISADE_CRS_DIR. */
export const CRS_RULES_DIR = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'

export function crsAvailable(): { ok: true } | { ok: false; why: string } {
  if (!existsSync(CRS_TESTS_DIR))
    return { ok: false, why: `CRS regression tests not found at ${CRS_TESTS_DIR}` }
  if (!existsSync(`${CRS_RULES_DIR}/rules`))
    return { ok: false, why: `CRS rules not found at ${CRS_RULES_DIR}/rules` }
  return { ok: true }
}
