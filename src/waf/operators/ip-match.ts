/**
 * Description: matches when the input is an IP address inside one of the listed IPv4/IPv6 addresses
 * or CIDR networks. Entries are separated by commas (spaces around them are allowed). An input that
 * is not an address does not match. An IPv4-mapped IPv6 input (`::ffff:192.0.2.1`) also matches IPv4
 * entries.
 * Arguments: comma-separated addresses and networks.
 * Example SecRule: SecRule REMOTE_ADDR "@ipMatch 127.0.0.1,::1,10.0.0.0/8" "id:1,phase:1,t:none,pass,nolog"
 */
import { WafConfigError } from '../errors.js'
import { IpSet } from './ip-address.js'
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { Operator, OperatorFactory } from './operator.js'

/** Adds comma-separated entries to `set`; throws WafConfigError naming the first bad one. */
export function addIpEntries(set: IpSet, text: string, operator: string): void {
  for (const raw of text.split(',')) {
    const entry = raw.trim()
    if (entry === '') continue
    if (!set.add(entry))
      throw new WafConfigError('PAL_WAF_IP_INVALID', `${operator}: invalid address "${entry}"`)
  }
}

export function createIpMatcher(set: IpSet): Operator {
  return (input) => (set.has(input) ? MATCH_WITHOUT_CAPTURE : null)
}

export const ipMatch: OperatorFactory = (param) => {
  const set = new IpSet()
  addIpEntries(set, param, '@ipMatch')
  if (set.size === 0) throw new WafConfigError('PAL_WAF_IP_EMPTY', '@ipMatch needs at least one address')
  return createIpMatcher(set)
}
