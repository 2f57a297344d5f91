import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { startDeploy } from './deploy-helpers.js'

const hasPhp = ((): boolean => {
  try {
    execFileSync('php', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

// .ci/run installs php-cli. As root the app also runs isolated (its own user and network namespace).
for (const isolate of process.getuid?.() === 0 ? [false, true] : [false])
  test(
    `a php@8.2 app is built and served through the edge by PHP’s own server${isolate ? ' (isolated)' : ''}`,
    { skip: !hasPhp && 'php-cli is not installed' },
    async (t) => {
      const app = await startDeploy(t, { runtime: 'php@8.2', healthCheckPath: '/health', isolate })
      app.repo.commit({
        'public/index.php': `<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/health') { echo "ok"; return; }
header('Content-Type: text/plain');
echo 'Hello from PHP ' . PHP_MAJOR_VERSION . ' via ' . $path . ' with ' . getenv('GREETING');
`,
        'public/style.css': 'body { color: teal }',
      })
      const vars = await app.call('PUT', `/v1/environments/${app.envId}/variables/GREETING`, {
        value: 'variables',
      })
      assert.ok(vars.statusCode === 200 || vars.statusCode === 201, vars.body)
      const d = await app.deploy()
      assert.equal(d.status, 'succeeded', d.reason ?? '')
      const logs = (await app.call('GET', `/v1/deployments/${d.id}/logs`)).body
      assert.match(logs, /PHP built-in server serving public\//)
      const home = await app.get('/shop/cart')
      assert.equal(home.status, 200)
      assert.match(
        home.body,
        /^Hello from PHP \d via \/shop\/cart with variables$/,
        'paths that are not files reach index.php',
      )
      const css = await app.get('/style.css')
      assert.equal(css.body, 'body { color: teal }')
    },
  )
