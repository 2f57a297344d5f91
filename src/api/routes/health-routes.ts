import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { AppDeps } from '../build-app.js'

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/v1/health',
    {
      config: { meta: { auth: 'public', summary: 'Liveness and store reachability' } },
      schema: {
        response: {
          200: Type.Object({ status: Type.String(), version: Type.String(), store: Type.String() }),
        },
      },
    },
    async () => {
      await sql`select 1`.execute(deps.db)
      return { status: 'ok', version: deps.version, store: 'ok' }
    },
  )
}
