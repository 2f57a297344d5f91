/**
 * The last few hundred digests of short inputs. CRS hashes the User-Agent of every request (901318,
 * `t:sha1`); a hash costs a few microseconds, a lookup a fraction of one, and user agents repeat.
 */
const ENTRIES = 256
const LONGEST = 1024

export function createDigestMemo(): (input: string, digest: (input: string) => string) => string {
  const known = new Map<string, string>()
  return (input, digest) => {
    if (input.length > LONGEST) return digest(input)
    let out = known.get(input)
    if (out === undefined) {
      out = digest(input)
      if (known.size >= ENTRIES) known.clear()
      known.set(input, out)
    }
    return out
  }
}
