/**
 * A snapshot of the access-control entries, indexed so that a decision is a
 * few map lookups: entries are bucketed by permission, principal, resource
 * type and operation; each bucket holds its literal names in a set and its
 * prefixes in a short list.
 *
 * Rules: a matching `deny` (for the principal or `*`) wins over any allow;
 * a literal `*` names every topic or group;
 * otherwise a matching `allow` of the operation, or of one that implies it,
 * allows; with no match the answer is no. As in Kafka, `describe` on a topic
 * is implied by produce, consume, delete and alter, and `describe` on a group
 * by read and delete (implication applies to allows only).
 */
import {
  ANY_PRINCIPAL,
  ANY_RESOURCE,
  type AclEntry,
  type AclOperation,
  type AclPermission,
  type AclResourceType,
} from '../../metadata/aclRules.js';

type Bucket = { literals: Set<string>; prefixes: string[] };

/** Operations whose allow also allows the key operation, per resource type. */
const IMPLIED_BY: Record<AclResourceType, Partial<Record<AclOperation, readonly AclOperation[]>>> = {
  topic: { describe: ['produce', 'consume', 'delete', 'alter'] },
  group: { describe: ['read', 'delete'] },
  cluster: {},
};

function bucketKey(permission: AclPermission, principal: string, type: AclResourceType, op: AclOperation): string {
  return `${permission}\u0000${type}\u0000${op}\u0000${principal}`;
}

export class AclIndex {
  private readonly buckets = new Map<string, Bucket>();
  /** Principals (or `*`) with at least one allow, per resource type and operation. */
  private readonly allowers = new Map<string, Set<string>>();

  constructor(entries: readonly AclEntry[]) {
    for (const entry of entries) {
      const key = bucketKey(entry.permission, entry.principal, entry.resourceType, entry.operation);
      let bucket = this.buckets.get(key);
      if (bucket === undefined) {
        bucket = { literals: new Set(), prefixes: [] };
        this.buckets.set(key, bucket);
      }
      // The literal name `*` stands for every resource of its type, as in Kafka.
      if (entry.patternType === 'literal' && entry.resourceName !== ANY_RESOURCE)
        bucket.literals.add(entry.resourceName);
      else
        bucket.prefixes.push(
          entry.resourceName === ANY_RESOURCE && entry.patternType === 'literal' ? '' : entry.resourceName,
        );
      if (entry.permission === 'allow') {
        const kind = `${entry.resourceType}\u0000${entry.operation}`;
        const set = this.allowers.get(kind) ?? new Set<string>();
        set.add(entry.principal);
        this.allowers.set(kind, set);
      }
    }
  }

  /** Whether `principal` may run `operation` on the resource named `name` (see the module rules). */
  allows(principal: string, operation: AclOperation, type: AclResourceType, name: string): boolean {
    if (this.matches('deny', principal, type, operation, name)) return false;
    const operations = [operation, ...(IMPLIED_BY[type][operation] ?? [])];
    return operations.some((op) => this.matches('allow', principal, type, op, name));
  }

  /** Whether some allow entry gives `principal` `operation` on any resource of `type`. */
  allowsSomewhere(principal: string, operation: AclOperation, type: AclResourceType): boolean {
    const set = this.allowers.get(`${type}\u0000${operation}`);
    return set !== undefined && (set.has(principal) || set.has(ANY_PRINCIPAL));
  }

  private matches(
    permission: AclPermission,
    principal: string,
    type: AclResourceType,
    operation: AclOperation,
    name: string,
  ): boolean {
    return (
      matchesBucket(this.buckets.get(bucketKey(permission, principal, type, operation)), name) ||
      matchesBucket(this.buckets.get(bucketKey(permission, ANY_PRINCIPAL, type, operation)), name)
    );
  }
}

function matchesBucket(bucket: Bucket | undefined, name: string): boolean {
  if (bucket === undefined) return false;
  return bucket.literals.has(name) || bucket.prefixes.some((prefix) => name.startsWith(prefix));
}
