import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { API_TYPES_FILE, apiTypesSource } from '../scripts/console-api-types.js'

// The console's typed client is generated from /v1/openapi.json and committed; `npm run typecheck` checks the
// console against it. This keeps the committed types equal to what the API documents now, so an API change
// that breaks the console breaks the check (regenerate with `npm run console:api-types`).
test('the console API types equal what /v1/openapi.json generates (no drift between API and console)', async () => {
  const committed = readFileSync(API_TYPES_FILE, 'utf8')
  const fresh = await apiTypesSource()
  assert.ok(fresh.includes('"/v1/sessions"'), 'the generated types describe the API')
  assert.equal(committed, fresh, 'console/src/api/schema.d.ts is stale: run `npm run console:api-types`')
})
