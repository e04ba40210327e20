/**
 * Access-control entries (ACLs) as the metadata store keeps them, and the
 * checks every backend runs on them before storing.
 *
 * An entry allows or denies one principal (or every principal, `*`) one
 * operation on the resources a pattern names: one topic or group (`literal`)
 * or every topic or group whose name starts with a prefix (`prefix`).
 */
import { InvalidRequestError } from '../protocol/errors.js';

/** What an entry is about: topics, consumer groups, or the cluster as a whole. */
export type AclResourceType = 'topic' | 'group' | 'cluster';

/** How an entry's resource name matches: the exact name, or every name starting with it. */
export type AclPatternType = 'literal' | 'prefix';

/** Whether a matching entry allows or denies; a deny wins over any allow. */
export type AclPermission = 'allow' | 'deny';

/** The operations each resource type has. */
export const ACL_OPERATIONS = {
  topic: ['produce', 'consume', 'describe', 'create', 'delete', 'alter'],
  group: ['read', 'describe', 'delete'],
  cluster: ['admin'],
} as const satisfies Record<AclResourceType, readonly string[]>;

export type TopicOperation = (typeof ACL_OPERATIONS.topic)[number];
export type GroupOperation = (typeof ACL_OPERATIONS.group)[number];
export type ClusterOperation = (typeof ACL_OPERATIONS.cluster)[number];
export type AclOperation = TopicOperation | GroupOperation | ClusterOperation;

/** The only resource name of the cluster resource type. */
export const CLUSTER_RESOURCE = 'cluster';

/** The principal an entry names to match every principal. */
export const ANY_PRINCIPAL = '*';

/** The literal resource name that matches every topic or group. */
export const ANY_RESOURCE = '*';

/** The name of a call that carries no principal. */
export const ANONYMOUS = 'ANONYMOUS';

/** One access-control entry. */
export type AclEntry = {
  /** Who: a principal name (a certificate CN, a user) or `*` for everyone, ANONYMOUS included. */
  principal: string;
  permission: AclPermission;
  operation: AclOperation;
  resourceType: AclResourceType;
  /** `literal` or `prefix`; always `literal` for the cluster. */
  patternType: AclPatternType;
  /** A topic name, group id or name prefix (literal `*`: every one); `cluster` for the cluster. */
  resourceName: string;
};

/** Longest principal or resource name an entry may hold, UTF-16 code units. */
export const MAX_ACL_NAME_LENGTH = 1024;

const PERMISSIONS: readonly string[] = ['allow', 'deny'];
const PATTERNS: readonly string[] = ['literal', 'prefix'];

function isResourceType(value: string): value is AclResourceType {
  return Object.hasOwn(ACL_OPERATIONS, value);
}

/** Throws InvalidRequestError naming what to change when `entry` is not a storable ACL. */
export function validateAclEntry(entry: AclEntry): void {
  const { principal, permission, operation, resourceType, patternType, resourceName } = entry;
  const name = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ACL_NAME_LENGTH)
      throw new InvalidRequestError(`ACL ${field} must be 1 to ${MAX_ACL_NAME_LENGTH} characters`);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code === 0x7f) throw new InvalidRequestError(`ACL ${field} holds a control character`);
    }
    return value;
  };
  name('principal', principal);
  name('resource name', resourceName);
  if (!PERMISSIONS.includes(permission))
    throw new InvalidRequestError(`ACL permission must be allow or deny, got '${String(permission)}'`);
  if (typeof resourceType !== 'string' || !isResourceType(resourceType))
    throw new InvalidRequestError(`ACL resource type must be topic, group or cluster, got '${String(resourceType)}'`);
  const operations: readonly string[] = ACL_OPERATIONS[resourceType];
  if (!operations.includes(operation))
    throw new InvalidRequestError(
      `ACL operation on a ${resourceType} must be one of ${operations.join(', ')}, got '${String(operation)}'`,
    );
  if (!PATTERNS.includes(patternType))
    throw new InvalidRequestError(`ACL pattern type must be literal or prefix, got '${String(patternType)}'`);
  if (resourceType === 'cluster' && (patternType !== 'literal' || resourceName !== CLUSTER_RESOURCE))
    throw new InvalidRequestError(`a cluster ACL names the literal resource '${CLUSTER_RESOURCE}'`);
}

/** A string naming an entry exactly (its identity in a store). */
export function aclKey(entry: AclEntry): string {
  const { principal, permission, operation, resourceType, patternType, resourceName } = entry;
  return JSON.stringify([principal, permission, operation, resourceType, patternType, resourceName]);
}

/** The entry `aclKey` named. */
export function aclFromKey(key: string): AclEntry {
  const [principal, permission, operation, resourceType, patternType, resourceName] = JSON.parse(key) as string[];
  const entry = { principal, permission, operation, resourceType, patternType, resourceName } as AclEntry;
  validateAclEntry(entry);
  return entry;
}

/** Orders entries for listing: by resource type, name, principal, operation, permission. */
export function compareAcls(a: AclEntry, b: AclEntry): number {
  const fields = ['resourceType', 'resourceName', 'patternType', 'principal', 'operation', 'permission'] as const;
  for (const field of fields) {
    if (a[field] !== b[field]) return a[field] < b[field] ? -1 : 1;
  }
  return 0;
}
