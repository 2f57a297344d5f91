import type { RouteOptions } from 'fastify'

/** Per-route metadata that the OpenAPI document carries (and the authorization/audit tests read). */
export interface RouteMeta {
  /** `public` routes need no credential; everything else is denied without one. */
  readonly auth: 'public' | 'required'
  /** Audit action written by this route when it succeeds (mutating routes). */
  readonly audit?: string
  /** Signed requests only (RFC 9421). */
  readonly signed?: boolean
  /** A POST that changes nothing (a computation, such as a WAF decision): it writes no audit event. */
  readonly readOnly?: boolean
  /** Media type of a body that is streamed, not parsed (a backup import): documented as binary. */
  readonly streamedBody?: string
  readonly summary?: string
  readonly tag?: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    meta?: RouteMeta
  }
}

interface CollectedRoute {
  method: string
  url: string
  schema: Record<string, unknown>
  meta: RouteMeta
}

/** Collects routes as Fastify registers them and renders an OpenAPI 3.1 document from their schemas. */
export function createOpenApiCollector(info: { title: string; version: string }) {
  const routes: CollectedRoute[] = []
  return {
    onRoute(route: RouteOptions): void {
      if (!route.url.startsWith('/v1/')) return
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const meta = (route.config as { meta?: RouteMeta } | undefined)?.meta ?? { auth: 'required' }
      for (const method of methods) {
        if (method === 'HEAD') continue
        routes.push({
          method: method.toLowerCase(),
          url: route.url,
          schema: (route.schema ?? {}) as Record<string, unknown>,
          meta,
        })
      }
    },
    routes: (): readonly CollectedRoute[] => routes,
    document(): Record<string, unknown> {
      const paths: Record<string, Record<string, unknown>> = {}
      for (const r of routes) {
        const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}')
        const parameters: unknown[] = []
        for (const [where, key] of [
          ['path', 'params'],
          ['query', 'querystring'],
        ] as const) {
          const s = r.schema[key] as { properties?: Record<string, unknown>; required?: string[] } | undefined
          for (const [name, schema] of Object.entries(s?.properties ?? {})) {
            parameters.push({
              name,
              in: where,
              required: where === 'path' || (s?.required ?? []).includes(name),
              schema,
            })
          }
        }
        const responses: Record<string, unknown> = {}
        for (const [status, schema] of Object.entries(
          (r.schema['response'] as Record<string, unknown> | undefined) ?? {},
        )) {
          responses[status] = {
            description: status.startsWith('2') ? 'success' : 'error',
            content: { 'application/json': { schema } },
          }
        }
        responses['default'] = {
          description: 'error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        }
        const op: Record<string, unknown> = {
          operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
          summary: r.meta.summary ?? `${r.method.toUpperCase()} ${path}`,
          tags: [r.meta.tag ?? path.split('/')[2] ?? 'v1'],
          parameters,
          responses,
          'x-palisade-auth': r.meta.auth,
        }
        if (r.meta.audit) op['x-palisade-audit'] = r.meta.audit
        if (r.meta.signed) op['x-palisade-signed'] = true
        if (r.meta.readOnly) op['x-palisade-readonly'] = true
        if (r.meta.auth === 'required') op['security'] = [{ bearer: [] }]
        if (r.schema['body'])
          op['requestBody'] = {
            required: true,
            content: { 'application/json': { schema: r.schema['body'] } },
          }
        if (r.meta.streamedBody)
          op['requestBody'] = {
            required: true,
            content: { [r.meta.streamedBody]: { schema: { type: 'string', format: 'binary' } } },
          }
        paths[path] = { ...paths[path], [r.method]: op }
      }
      return {
        openapi: '3.1.0',
        info,
        servers: [{ url: '/' }],
        paths,
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'session token or API token (pal_…)' },
          },
          schemas: {
            Error: {
              type: 'object',
              required: ['error'],
              properties: {
                error: {
                  type: 'object',
                  required: ['code', 'message', 'requestId'],
                  properties: {
                    code: { type: 'string' },
                    message: { type: 'string' },
                    requestId: { type: 'string' },
                    details: { type: 'array' },
                  },
                },
              },
            },
          },
        },
      }
    },
  }
}

export type OpenApiCollector = ReturnType<typeof createOpenApiCollector>
