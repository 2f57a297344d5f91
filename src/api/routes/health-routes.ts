import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { AppDeps } from '../build-app.js'

const Edge = Type.Object({
  workers: Type.Integer({ description: 'edge worker processes running' }),
  configured: Type.Integer(),
  ready: Type.Integer({ description: 'workers accepting connections' }),
  version: Type.Integer({ description: 'the newest route snapshot version' }),
  behind: Type.Array(Type.Object({ pid: Type.Integer(), version: Type.Integer() }), {
    description: 'workers serving an older snapshot for more than a few seconds',
  }),
})

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get(
    '/v1/health',
    {
      config: { meta: { auth: 'public', summary: 'Liveness, store reachability and the edge workers' } },
      schema: {
        response: {
          200: Type.Object({
            status: Type.String({ description: 'ok, or degraded when an edge worker is behind or missing' }),
            version: Type.String(),
            store: Type.String(),
            edge: Type.Optional(Edge),
          }),
        },
      },
    },
    async () => {
      await sql`select 1`.execute(deps.db)
      const status = deps.edgeWorkers?.()
      if (!status) return { status: 'ok', version: deps.version, store: 'ok' }
      // Only counts and versions: pids and memory are for `palisade doctor` (root), not the public.
      const behind = status.workers.filter((w) => w.behind).map((w) => ({ pid: w.pid, version: w.version }))
      const ready = status.workers.filter((w) => w.ready).length
      return {
        status: behind.length > 0 || ready < status.configured ? 'degraded' : 'ok',
        version: deps.version,
        store: 'ok',
        edge: {
          workers: status.workers.length,
          configured: status.configured,
          ready,
          version: status.version,
          behind,
        },
      }
    },
  )
}
