/**
 * Decides whether a principal may run an operation on a resource, from the
 * metadata store's ACLs as last read: the agent reads them at start and again
 * every `refreshMs`, so every check is a lookup in memory (a decision cache
 * keyed by principal, resource and operation, emptied when the ACLs change)
 * and a change reaches every agent within about `refreshMs`. When a refresh
 * fails the last ACLs read stay in force.
 *
 * A denial comes back as the typed error to answer with (TOPIC_, GROUP_ or
 * CLUSTER_AUTHORIZATION_FAILED naming principal, operation and resource) and
 * is logged once per principal, resource and operation per window.
 */
import type { Logger } from 'pino';
import {
  ANONYMOUS,
  CLUSTER_RESOURCE,
  type AclEntry,
  type AclOperation,
  type AclResourceType,
  type ClusterOperation,
  type GroupOperation,
  type TopicOperation,
} from '../../metadata/aclRules.js';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import {
  ClusterAuthorizationFailedError,
  GroupAuthorizationFailedError,
  TopicAuthorizationFailedError,
  type StreamHouseError,
} from '../../protocol/errors.js';
import { AclIndex } from './aclIndex.js';
import type { ResolvedAuthorizerOptions } from './authorizerOptions.js';
import { DeniedLog } from './deniedLog.js';

/** Most decisions kept; the cache starts over when full. */
const MAX_DECISIONS = 100_000;
/** Most denials remembered for log deduplication. */
const MAX_DENIALS_REMEMBERED = 10_000;

/** What the agent's service wrapper and the Kafka handlers ask. */
export interface Authorizer {
  /** The error to answer with when `principal` (undefined: ANONYMOUS) may not run `operation` on `topic`. */
  topicError(principal: string | undefined, operation: TopicOperation, topic: string): StreamHouseError | undefined;
  /** As topicError, for a consumer group. */
  groupError(principal: string | undefined, operation: GroupOperation, group: string): StreamHouseError | undefined;
  /** As topicError, for the cluster. */
  clusterError(principal: string | undefined, operation: ClusterOperation): StreamHouseError | undefined;
  /** Whether `principal` may run `operation` on `topic`, not logged (for filtering listings). */
  mayTopic(principal: string | undefined, operation: TopicOperation, topic: string): boolean;
  /** As mayTopic, for a consumer group. */
  mayGroup(principal: string | undefined, operation: GroupOperation, group: string): boolean;
  /** Whether the principal may produce to some topic (what InitProducerId asks, as in Kafka). */
  mayProduceSomewhere(principal: string | undefined): boolean;
}

export type AclAuthorizerOptions = ResolvedAuthorizerOptions & {
  store: MetadataStore;
  logger: Logger | undefined;
  clock?: () => number;
};

export class AclAuthorizer implements Authorizer {
  private index = new AclIndex([]);
  /** The ACLs the index was built from, to skip rebuilding when nothing changed. */
  private loaded = '';
  private readonly decisions = new Map<string, boolean>();
  private readonly superUsers: ReadonlySet<string>;
  private readonly denied: DeniedLog;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: AclAuthorizerOptions) {
    this.superUsers = new Set(options.superUsers);
    this.denied = new DeniedLog(options.deniedLogWindowMs, MAX_DENIALS_REMEMBERED, options.clock ?? Date.now);
  }

  /** Reads the ACLs (throwing when the store cannot answer), then again every refreshMs until stop(). */
  async start(): Promise<void> {
    this.apply(await this.options.store.listAcls());
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the ACLs now; resolves once they are in force (or the read failed, which is logged). */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        this.apply(await this.options.store.listAcls());
        if (this.failing) this.options.logger?.info('ACLs read again');
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.options.logger?.warn({ err }, 'ACL refresh failed: the last ACLs read stay in force');
        this.failing = true;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Decisions cached now (bounded by MAX_DECISIONS). */
  get cachedDecisions(): number {
    return this.decisions.size;
  }

  topicError(principal: string | undefined, operation: TopicOperation, topic: string): StreamHouseError | undefined {
    // Creating topics is also what a cluster admin may do, as Kafka's CREATE on the cluster.
    if (operation === 'create' && this.allows(principal, 'admin', 'cluster', CLUSTER_RESOURCE)) return undefined;
    if (this.allows(principal, operation, 'topic', topic)) return undefined;
    const who = principal ?? ANONYMOUS;
    this.logDenied(who, operation, 'topic', topic);
    return new TopicAuthorizationFailedError(`principal '${who}' may not ${operation} on topic '${topic}'`, {
      context: { topic },
    });
  }

  groupError(principal: string | undefined, operation: GroupOperation, group: string): StreamHouseError | undefined {
    if (this.allows(principal, operation, 'group', group)) return undefined;
    const who = principal ?? ANONYMOUS;
    this.logDenied(who, operation, 'group', group);
    return new GroupAuthorizationFailedError(`principal '${who}' may not ${operation} on group '${group}'`);
  }

  clusterError(principal: string | undefined, operation: ClusterOperation): StreamHouseError | undefined {
    if (this.allows(principal, operation, 'cluster', CLUSTER_RESOURCE)) return undefined;
    const who = principal ?? ANONYMOUS;
    this.logDenied(who, operation, 'cluster', CLUSTER_RESOURCE);
    return new ClusterAuthorizationFailedError(`principal '${who}' may not ${operation} on the cluster`);
  }

  mayTopic(principal: string | undefined, operation: TopicOperation, topic: string): boolean {
    return this.allows(principal, operation, 'topic', topic);
  }

  mayGroup(principal: string | undefined, operation: GroupOperation, group: string): boolean {
    return this.allows(principal, operation, 'group', group);
  }

  mayProduceSomewhere(principal: string | undefined): boolean {
    const who = principal ?? ANONYMOUS;
    return (
      this.superUsers.has(who) ||
      this.index.allowsSomewhere(who, 'produce', 'topic') ||
      this.allows(principal, 'admin', 'cluster', CLUSTER_RESOURCE)
    );
  }

  private allows(principal: string | undefined, operation: AclOperation, type: AclResourceType, name: string): boolean {
    const who = principal ?? ANONYMOUS;
    if (this.superUsers.has(who)) return true;
    const key = `${type}\u0000${operation}\u0000${who}\u0000${name}`;
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      decision = this.index.allows(who, operation, type, name);
      if (this.decisions.size >= MAX_DECISIONS) this.decisions.clear();
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private apply(entries: AclEntry[]): void {
    const loaded = JSON.stringify(entries);
    if (loaded === this.loaded) return;
    this.index = new AclIndex(entries);
    this.loaded = loaded;
    this.decisions.clear();
    this.options.logger?.info({ acls: entries.length }, 'ACLs loaded');
  }

  private logDenied(principal: string, operation: AclOperation, type: AclResourceType, name: string): void {
    const logger = this.options.logger;
    if (logger === undefined || !this.denied.shouldLog(`${type}\u0000${operation}\u0000${principal}\u0000${name}`))
      return;
    logger.warn({ principal, operation, resourceType: type, resource: name }, 'authorization denied');
  }
}
