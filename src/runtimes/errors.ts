/** Error codes of the runtimes capability (unique across Palisade; see errors.test.ts). */
export const RUNTIME_ERRORS = {
  settingInvalid: 'PAL_RUNTIME_SETTING_INVALID',
  versionInvalid: 'PAL_RUNTIME_VERSION_INVALID',
  noMatchingVersion: 'PAL_RUNTIME_NO_MATCHING_VERSION',
  catalogInvalid: 'PAL_RUNTIME_CATALOG_INVALID',
  refreshFailed: 'PAL_RUNTIME_REFRESH_FAILED',
  installFailed: 'PAL_RUNTIME_INSTALL_FAILED',
  integrityMismatch: 'PAL_RUNTIME_INTEGRITY_MISMATCH',
  postponeLimit: 'PAL_RUNTIME_POSTPONE_LIMIT',
  postponeInvalid: 'PAL_RUNTIME_POSTPONE_INVALID',
} as const
