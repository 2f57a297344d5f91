import { findMajor, findRuntime, parseRuntimeSetting, type RuntimeCatalog } from '../runtimes/index.js'

/** The end of life of an environment's runtime setting (`node@18`, `node@18.20`, `node@18.20.4`), if known. */
export function endOfLife(
  catalog: RuntimeCatalog,
  runtime: string,
  channel: string,
): { name: string; major: number; date: string } | null {
  let setting
  try {
    setting = parseRuntimeSetting(runtime, channel === 'deprecated' ? 'deprecated' : 'stable')
  } catch {
    return null
  }
  // Custom images and static sites are the customer's: the platform knows no dates for them.
  if (setting.kind === 'custom' || setting.kind === 'static') return null
  const entry = findRuntime(catalog, setting.runtime)
  const major = setting.kind === 'exact' ? setting.version.major : setting.major
  const info = entry ? findMajor(entry, major) : undefined
  return info ? { name: setting.runtime, major, date: info.eolAt } : null
}
