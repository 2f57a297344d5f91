/** A TX value as a number the way setvar's `+`/`-` and the anomaly score read it (ModSecurity's atoi-like parse). */
export function toInt(s: string | undefined): number {
  if (s === undefined) return 0
  const n = Number.parseInt(s, 10)
  return Number.isFinite(n) ? n : 0
}
