/** Error codes of environment sync and anonymization (unique across the project; see test/error-codes.test.ts). */
export const SYNC_ERRORS = {
  invalidRules: 'PAL_SYNC_RULES_INVALID',
  rulesMismatch: 'PAL_SYNC_RULES_MISMATCH',
  invalidField: 'PAL_SYNC_FIELD_INVALID',
  otherProject: 'PAL_SYNC_OTHER_PROJECT',
  sameEnvironment: 'PAL_SYNC_SAME_ENVIRONMENT',
  nothingToSync: 'PAL_SYNC_NOTHING_TO_SYNC',
  noTargetService: 'PAL_SYNC_NO_TARGET_SERVICE',
  notRunning: 'PAL_SYNC_SERVICE_NOT_RUNNING',
  busy: 'PAL_SYNC_BUSY',
  notFound: 'PAL_SYNC_NOT_FOUND',
} as const
