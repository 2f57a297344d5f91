import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { startDeployPlatform } from './deploy-helpers.js'
import { removeSandboxes } from './services-helpers.js'

const asRoot = process.getuid?.() === 0
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBtest-proxy-ca\n-----END CERTIFICATE-----\n'

/**
 * Behind a TLS-inspecting proxy, `npm ci` in a build must trust the proxy's CA: `palisade serve` started with
 * NODE_EXTRA_CA_CERTS hands the file to every build (and app), read-only, in its sandbox.
 */
test(
  'a build sees the host’s NODE_EXTRA_CA_CERTS file inside its sandbox',
  { skip: asRoot ? false : 'needs root (sandboxes)' },
  async (t) => {
    let caFile = ''
    const p = await startDeployPlatform(t, {
      isolate: true,
      settings: (dir) => {
        mkdirSync(path.join(dir, 'ca'), { recursive: true })
        caFile = path.join(dir, 'ca', 'proxy-ca.pem')
        writeFileSync(caFile, PEM)
        chmodSync(caFile, 0o644)
        return { extraCaCerts: caFile }
      },
    })
    const f = await p.addApp()
    t.after(() => removeSandboxes([f.envId]))
    const server = `
const http = require('node:http')
const fs = require('node:fs')
const server = http.createServer((req, res) => res.end(req.url === '/ca' ? fs.readFileSync('ca-seen.txt') : 'ok'))
server.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`
    const build =
      "node -e \"const fs = require('fs'); const f = process.env.NODE_EXTRA_CA_CERTS; fs.writeFileSync('ca-seen.txt', f + '|' + fs.readFileSync(f, 'utf8'))\""
    f.repo.commit({
      'package.json': JSON.stringify({
        name: 'app',
        private: true,
        scripts: { build, start: 'node server.js' },
      }),
      'server.js': server,
    })
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    const seen = await f.get('/ca')
    assert.equal(seen.body, `${caFile}|${PEM}`)
  },
)
