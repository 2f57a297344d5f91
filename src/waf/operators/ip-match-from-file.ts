/**
 * Description: @ipMatch with the addresses read from files: one or more comma-separated entries per
 * line, `#` starts a comment, blank lines are skipped. Several files may be given, separated by
 * spaces. `@ipMatchF` is an alias. Remote (http/https) files are not supported: the WAF does no I/O.
 * Arguments: one or more file paths.
 * Example SecRule: SecRule REMOTE_ADDR "@ipMatchFromFile ip_blacklist.data" "id:1,phase:1,t:none,deny"
 */
import { WafConfigError } from '../errors.js'
import { IpSet } from './ip-address.js'
import { addIpEntries, createIpMatcher } from './ip-match.js'
import type { OperatorFactory } from './operator.js'

export const ipMatchFromFile: OperatorFactory = (param, ctx) => {
  const files = param.split(/[ \t]+/).filter((f) => f.length > 0)
  if (files.length === 0) throw new WafConfigError('PAL_WAF_IPF_EMPTY', '@ipMatchFromFile needs a file name')
  const set = new IpSet()
  for (const file of files) {
    if (/^https?:\/\//i.test(file))
      throw new WafConfigError(
        'PAL_WAF_IPF_REMOTE',
        `@ipMatchFromFile: remote files are not supported (${file})`,
      )
    let text: string
    try {
      text = ctx.readFile(file)
    } catch (err) {
      throw new WafConfigError(
        'PAL_WAF_IPF_READ',
        `@ipMatchFromFile: cannot read ${file}`,
        {},
        { cause: err },
      )
    }
    for (const line of text.split('\n')) {
      const hash = line.indexOf('#')
      addIpEntries(set, hash === -1 ? line : line.slice(0, hash), '@ipMatchFromFile')
    }
  }
  return createIpMatcher(set)
}
