/** Error codes of the deploy capability (unique across the project; see errors.test.ts). */
export const DEPLOY_ERRORS = {
  notFound: 'PAL_DEPLOY_NOT_FOUND',
  invalidField: 'PAL_DEPLOY_FIELD_INVALID',
  noRepository: 'PAL_DEPLOY_NO_REPOSITORY',
  repositoryRefused: 'PAL_DEPLOY_REPOSITORY_REFUSED',
  noRelease: 'PAL_DEPLOY_NO_RELEASE',
  domainTaken: 'PAL_DEPLOY_DOMAIN_TAKEN',
  tooMany: 'PAL_DEPLOY_LIMIT_REACHED',
  queueFull: 'PAL_DEPLOY_QUEUE_FULL',
  unavailable: 'PAL_DEPLOY_UNAVAILABLE',
} as const
