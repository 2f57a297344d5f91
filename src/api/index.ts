/**
 * The HTTP API under /v1: Fastify, one error table, OpenAPI generated from the validating schemas.
 * @example const app = buildApp(deps); await app.listen({ port: 8080 })
 */
export { buildApp, API_BODY_LIMIT, type AppDeps } from './build-app.js'
export { STATUS_OF_KIND, sendError, errorBody } from './errors.js'
export { contextOf, principalOf } from './context.js'
export type { RouteMeta } from './openapi.js'
export { loadConsoleFiles, SESSION_COOKIE, CONSOLE_HEADERS, type ConsoleFiles } from './console.js'
