/** Error codes of the services capability (unique across the project; see test/error-codes.test.ts). */
export const SERVICE_ERRORS = {
  notFound: 'PAL_SERVICE_NOT_FOUND',
  invalidField: 'PAL_SERVICE_FIELD_INVALID',
  nameTaken: 'PAL_SERVICE_NAME_TAKEN',
  tooMany: 'PAL_SERVICE_LIMIT_REACHED',
  versionUnavailable: 'PAL_SERVICE_VERSION_UNAVAILABLE',
  notRunning: 'PAL_SERVICE_NOT_RUNNING',
  busy: 'PAL_SERVICE_BUSY',
  pathTooLong: 'PAL_SERVICE_PATH_TOO_LONG',
  noUser: 'PAL_SERVICE_NO_USER',
  backupNotFound: 'PAL_SERVICE_BACKUP_NOT_FOUND',
  backupNotReady: 'PAL_SERVICE_BACKUP_NOT_READY',
  backupCorrupt: 'PAL_SERVICE_BACKUP_CORRUPT',
  backupTooLarge: 'PAL_SERVICE_BACKUP_TOO_LARGE',
  backupForeign: 'PAL_SERVICE_BACKUP_NOT_IMPORTABLE',
  logsNotFollowable: 'PAL_SERVICE_LOGS_NOT_FOLLOWABLE',
  tooManyFollowers: 'PAL_SERVICE_LOGS_TOO_MANY_FOLLOWERS',
} as const
