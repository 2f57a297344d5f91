import { useEffect, useState } from 'preact/hooks'

/**
 * A QR code drawn in the page as one SVG path (encoded here: no third-party service sees the TOTP secret, and
 * no data: image or inline style is needed under the CSP). The encoder is loaded only when one is shown.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const [drawn, setDrawn] = useState<{ n: number; d: string } | null>(null)
  useEffect(() => {
    let live = true
    void import('qrcode-generator').then(({ default: qrcode }) => {
      const qr = qrcode(0, 'M')
      qr.addData(text)
      qr.make()
      const n = qr.getModuleCount()
      let d = ''
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`
      if (live) setDrawn({ n, d })
    })
    return () => {
      live = false
    }
  }, [text])
  if (!drawn) return <p class="muted">Drawing the QR code…</p>
  const size = drawn.n + 8
  return (
    <svg viewBox={`0 0 ${size} ${size}`} width="200" height="200" role="img" aria-label={label} class="qr">
      <rect width={size} height={size} fill="#fff" />
      <path d={drawn.d} fill="#000" shape-rendering="crispEdges" />
    </svg>
  )
}
