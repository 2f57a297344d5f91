/** Error codes of the tenancy capability. */
export const TENANCY_ERRORS = {
  notFound: 'PAL_TENANCY_NOT_FOUND',
  nameTaken: 'PAL_TENANCY_NAME_TAKEN',
  nameUnavailable: 'PAL_TENANCY_NAME_UNAVAILABLE',
  hostTaken: 'PAL_TENANCY_HOST_TAKEN',
  hasChildren: 'PAL_TENANCY_HAS_CHILDREN',
  invalidName: 'PAL_TENANCY_NAME_INVALID',
  invalidField: 'PAL_TENANCY_FIELD_INVALID',
  reservedVariable: 'PAL_TENANCY_VARIABLE_RESERVED',
  setupDone: 'PAL_TENANCY_SETUP_DONE',
  setupToken: 'PAL_TENANCY_SETUP_TOKEN_INVALID',
  tooMany: 'PAL_TENANCY_LIMIT_REACHED',
} as const
