/**
 * Regenerates snapshot.json from the npm registry:
 *   node --import tsx src/runtimes/catalog/update-snapshot.ts
 * Review the diff (new versions, dates, integrity) before committing it.
 */
import { writeFileSync } from 'node:fs'
import { refreshCatalog, shippedCatalog } from './catalog.js'
import { createRegistryFetch } from './registry-fetch.js'

const next = await refreshCatalog(shippedCatalog(), createRegistryFetch(), new Date())
writeFileSync(
  new URL('./snapshot.json', import.meta.url),
  JSON.stringify({ generator: 'src/runtimes/catalog/update-snapshot.ts', ...next }, null, 1) + '\n',
)
process.stdout.write(
  `snapshot.json: ${next.runtimes['node']?.versions.length ?? 0} node versions, generated ${next.generatedAt}\n`,
)
