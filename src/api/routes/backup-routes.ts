import type { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  BACKUP_SCHEDULE_LIMITS,
  SERVICE_ERRORS,
  type BackupScheduleInput,
  type Services,
} from '../../services/index.js'
import { InvalidError, TooLargeError, UnauthenticatedError } from '../../shared/errors.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Strict, Timestamp } from '../schemas.js'
import { BackupSchema } from './service-routes.js'

const Params = Strict({ id: Id })

const ScheduleSchema = Type.Object({
  environmentId: Type.String(),
  enabled: Type.Boolean(),
  everyHours: Type.Integer(),
  keep: Type.Integer(),
  files: Type.Boolean(),
  nextRunAt: Type.Union([Timestamp, Type.Null()]),
  lastRunAt: Type.Union([Timestamp, Type.Null()]),
  lastBackupId: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.Union([Timestamp, Type.Null()]),
})

const ScheduleBody = Strict({
  enabled: Type.Boolean(),
  everyHours: Type.Integer({
    minimum: BACKUP_SCHEDULE_LIMITS.everyHours[0],
    maximum: BACKUP_SCHEDULE_LIMITS.everyHours[1],
    description: 'hours between scheduled backups',
  }),
  keep: Type.Integer({
    minimum: BACKUP_SCHEDULE_LIMITS.keep[0],
    maximum: BACKUP_SCHEDULE_LIMITS.keep[1],
    description: 'succeeded scheduled backups kept (manual and imported ones are never pruned)',
  }),
  files: Type.Boolean({ description: 'include the persistent directories' }),
})

const envIdOf = (request: FastifyRequest): string => (request.params as { id: string }).id

/** A refused oversize upload ends its connection after the 413, so the rest of the body is not read for nothing. */
async function closeIfTooLarge<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof TooLargeError) void reply.header('connection', 'close')
    throw error
  }
}

/**
 * Backup import (upload) and backup schedules. The import route takes the archive as
 * `application/octet-stream` and streams it to disk: the caller is authorized and the declared length
 * checked before a byte of the body is read.
 */
export function registerBackupRoutes(app: FastifyInstance, services: Services): void {
  const { backups } = services
  app.get(
    '/v1/environments/:id/backup-schedule',
    {
      config: { meta: { auth: 'required', summary: 'The environment’s backup schedule and retention' } },
      schema: { params: Params, response: { 200: ScheduleSchema } },
    },
    async (request) => backups.getSchedule(principalOf(request), envIdOf(request)),
  )
  app.put(
    '/v1/environments/:id/backup-schedule',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.backup-schedule.update',
          summary:
            'Back up every N hours (1–168) and keep the newest `keep` scheduled backups (1–100); runs as the platform',
        },
      },
      schema: { params: Params, body: ScheduleBody, response: { 200: ScheduleSchema } },
    },
    async (request) =>
      backups.putSchedule(
        principalOf(request),
        contextOf(request),
        envIdOf(request),
        request.body as BackupScheduleInput,
      ),
  )

  void app.register(async (scope) => {
    // The archive is streamed to disk as it arrives (bounded by the import limit), never buffered here.
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload))
    scope.post(
      '/v1/environments/:id/backups/import',
      {
        config: {
          meta: {
            auth: 'required',
            audit: 'environment.backup.import',
            streamedBody: 'application/octet-stream',
            summary:
              'Upload an archive as downloaded (application/octet-stream); verified whole before it becomes a backup of this environment',
          },
        },
        schema: { params: Params, response: { 201: BackupSchema } },
        // Before the body is read: who may import here, and whether the declared size fits.
        preParsing: async (request, reply, payload) => {
          const principal = principalOf(request)
          // A signed-only token without its signature is refused as everywhere else (preValidation, which
          // would say so, runs only after the body: too late for a stream).
          if (
            principal.type === 'token' &&
            principal.signed &&
            request.headers['signature-input'] === undefined
          )
            throw new UnauthenticatedError(
              'PAL_API_SIGNATURE_MISSING',
              'this API token is signed-only: sign the request (RFC 9421); archives are imported with a session or an unsigned token',
              { publicCode: 'signature_required' },
            )
          // A signature covers the body's digest, which is checked on buffered JSON bodies only: an archive
          // streamed past it would not be covered, so signed requests cannot import.
          if (
            request.headers['signature-input'] !== undefined ||
            (principal.type === 'token' && principal.signed)
          )
            throw new InvalidError(
              SERVICE_ERRORS.invalidField,
              'a signed request cannot stream an archive: import with a session or an unsigned API token',
              {
                publicCode: 'signed_upload_unsupported',
              },
            )
          const declared = Number(request.headers['content-length'])
          await closeIfTooLarge(reply, () =>
            backups.checkImport(
              principal,
              envIdOf(request),
              Number.isFinite(declared) ? declared : undefined,
            ),
          )
          return payload
        },
      },
      async (request, reply) => {
        const body = request.body as Readable | undefined
        if (!body || typeof body.pipe !== 'function')
          throw new InvalidError(
            SERVICE_ERRORS.invalidField,
            'send the archive as the body, with Content-Type: application/octet-stream',
            {
              details: [{ field: 'body', message: 'an archive is required' }],
            },
          )
        const declared = Number(request.headers['content-length'])
        const backup = await closeIfTooLarge(reply, () =>
          backups.importArchive(
            principalOf(request),
            contextOf(request),
            envIdOf(request),
            body,
            Number.isFinite(declared) ? declared : undefined,
          ),
        )
        return reply.code(201).send(backup)
      },
    )
  })
}
