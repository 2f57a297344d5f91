import type { Scope } from './principal.js'

export type Role = 'owner' | 'admin' | 'developer' | 'viewer'
export const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'viewer']

/**
 * Every action a route can take. Adding a route means adding its action here, with a rule below;
 * an action without a rule is denied (deny by default).
 */
export type Action =
  | 'workspace.read'
  | 'workspace.update'
  | 'workspace.delete'
  | 'member.read'
  | 'member.manage'
  | 'audit.read'
  | 'ipgroup.read'
  | 'ipgroup.manage'
  | 'project.read'
  | 'project.create'
  | 'project.update'
  | 'project.delete'
  | 'environment.read'
  | 'environment.create'
  | 'environment.update'
  | 'environment.delete'
  | 'variable.read'
  | 'variable.write'
  | 'deployment.read'
  | 'deployment.create'
  | 'job.run'
  | 'job.read'
  | 'access.manage'
  | 'domain.manage'
  | 'service.read'
  | 'service.manage'
  | 'service.credentials'
  | 'waf.read'
  | 'waf.manage'
  | 'waf.decide'
  | 'incident.create'
  | 'alert.read'
  | 'alert.manage'

interface Rule {
  /** Lowest role allowed. */
  readonly minRole: Role
  /** Lowest role allowed when the target environment is production (developers excluded by default). */
  readonly productionMinRole?: Role
  /** Token scope needed. */
  readonly scope: Scope
}

const R = (minRole: Role, scope: Scope, productionMinRole?: Role): Rule =>
  productionMinRole ? { minRole, scope, productionMinRole } : { minRole, scope }

export const RULES: Readonly<Record<Action, Rule>> = {
  'workspace.read': R('viewer', 'read'),
  'workspace.update': R('admin', 'admin'),
  'workspace.delete': R('owner', 'admin'),
  'member.read': R('viewer', 'read'),
  'member.manage': R('admin', 'admin'),
  'audit.read': R('admin', 'admin'),
  'alert.read': R('viewer', 'read'),
  'alert.manage': R('admin', 'admin'),
  'ipgroup.read': R('viewer', 'read'),
  'ipgroup.manage': R('admin', 'admin'),
  'project.read': R('viewer', 'read'),
  'project.create': R('developer', 'write'),
  // On a project with a production environment, what production runs (repository, name → host, anonymization
  // rules of the production → staging sync) is production's setting: the caller passes criticality 'production'.
  'project.update': R('developer', 'write', 'admin'),
  'project.delete': R('admin', 'write'),
  'environment.read': R('viewer', 'read'),
  'environment.create': R('developer', 'write', 'admin'),
  'environment.update': R('developer', 'write', 'admin'),
  'environment.delete': R('admin', 'write'),
  'variable.read': R('viewer', 'read'),
  'variable.write': R('developer', 'write', 'admin'),
  'deployment.read': R('viewer', 'read'),
  // Deploying or rolling back production runs code with production's secrets: the production bar.
  'deployment.create': R('developer', 'deploy', 'admin'),
  'job.run': R('developer', 'deploy', 'admin'),
  // A job's command text and output (viewers see a job's type, status and times only).
  'job.read': R('developer', 'read', 'admin'),
  'access.manage': R('admin', 'admin'),
  'domain.manage': R('developer', 'write', 'admin'),
  'service.read': R('viewer', 'read'),
  'service.manage': R('developer', 'write', 'admin'),
  'service.credentials': R('admin', 'admin'),
  'waf.read': R('viewer', 'read'),
  'waf.manage': R('admin', 'admin'),
  // Asking for a verdict changes nothing but the WAF event log: a developer's read-scoped signed token.
  'waf.decide': R('developer', 'read'),
  'incident.create': R('admin', 'admin'),
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, developer: 1, admin: 2, owner: 3 }

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min]
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/** `admin` scope covers everything, `write` and `deploy` include `read`. */
export function scopeCovers(granted: readonly Scope[], needed: Scope): boolean {
  if (granted.includes('admin') || granted.includes(needed)) return true
  return needed === 'read' && (granted.includes('write') || granted.includes('deploy'))
}
