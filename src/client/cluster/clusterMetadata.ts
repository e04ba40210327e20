/**
 * What a client knows of the cluster: topics with their partitions and lease
 * holders, and the live agents. Learnt from the Metadata call of any agent
 * (bootstrap addresses first, then every agent seen), refreshed every
 * `refreshMs` and at once when a call fails with NOT_LEADER or
 * AGENT_UNAVAILABLE (see `refresh`). Concurrent refreshes share one call.
 *
 * Routing: a partition goes to its lease holder; when no agent holds the
 * lease, to the agent a consistent-hash ring over the live agents picks, so
 * that clients agree on who should take the lease and a leaving agent moves
 * only its own share.
 *
 * An agent whose call failed with a connection error (AGENT_UNAVAILABLE,
 * see {@link ClusterMetadata.markUnreachable}) leaves routing at once, as
 * lease holder and on the ring, so the retry goes to another agent (which
 * takes the lease once it expires). It comes back when a Metadata answer
 * lists it and it answers a Metadata call itself. While every known agent
 * is unreachable, routing ignores the marks.
 */
import type { Logger } from 'pino';
import {
  ErrorCode,
  type ErrorInfo,
  type MetadataResponse,
  type TopicMetadata,
} from '../../protocol/generated/streamhouse.js';
import {
  AgentUnavailableError,
  fromErrorInfo,
  InvalidConfigError,
  UnknownTopicOrPartitionError,
  UnauthenticatedError,
} from '../../protocol/errors.js';
import { HashRing } from '../hashRing.js';
import { asyncScheduler, interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { AgentTransport } from './agentTransport.js';
import { deadline } from './deadline.js';

/** Probes of an unreachable agent per Metadata answer, and the delay before the second (doubling after). */
const PROBE_ATTEMPTS = 6;
const PROBE_BACKOFF_MS = 200;

export type ClusterMetadataOptions = {
  /** Agents to ask first, host:port. At least one. */
  bootstrap: string[];
  pool: AgentTransport;
  /** Times the refreshes, probes and Metadata deadlines. Default asyncScheduler. */
  scheduler?: SchedulerLike | undefined;
  /** Periodic refresh, ms; 0 disables. Default 30 000. */
  refreshMs?: number;
  /** Timeout of one Metadata call, ms. Default 10 000. */
  requestTimeoutMs?: number;
  logger?: Logger | undefined;
};

/** Checks a bootstrap list: at least one `host:port`. Throws InvalidConfigError naming what was given. */
export function checkBootstrap(bootstrap: unknown): asserts bootstrap is string[] {
  if (
    !Array.isArray(bootstrap) ||
    bootstrap.length === 0 ||
    bootstrap.some((a) => typeof a !== 'string' || !/^[^:\s]+:\d+$/.test(a))
  ) {
    throw new InvalidConfigError(`bootstrap must list agents as host:port, got ${JSON.stringify(bootstrap)}`);
  }
}

export class ClusterMetadata {
  private readonly topics = new Map<string, TopicMetadata>();
  /** Topics the agent refused to describe to this principal, with its answer (thrown by topic()). */
  private readonly deniedTopics = new Map<string, ErrorInfo>();
  /** Agents the last Metadata answer listed: id → address. */
  private agents = new Map<string, string>();
  private ring = new HashRing([]);
  /** Addresses whose calls failed with a connection error, until they answer again. */
  private readonly unreachable = new Set<string>();
  /** Listed agents not unreachable, and their ring: what routing uses. */
  private reachable = new Map<string, string>();
  private reachableRing = new HashRing([]);
  /** Unreachable addresses with a Metadata call under way to see whether they answer again. */
  private readonly probing = new Set<string>();
  private readonly probeTimers = new Set<Subscription>();
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private inFlightTopics = new Set<string>();
  /** Topics asked for; unknown ones are dropped when the cluster says so. */
  private readonly wanted = new Set<string>();
  private readonly timer: NodeJS.Timeout | Subscription | undefined;
  private readonly requestTimeoutMs: number;
  private readonly scheduler: SchedulerLike;

  constructor(private readonly options: ClusterMetadataOptions) {
    checkBootstrap(options.bootstrap);
    const { refreshMs = 30_000, requestTimeoutMs = 10_000, scheduler = asyncScheduler } = options;
    this.requestTimeoutMs = requestTimeoutMs;
    this.scheduler = scheduler;
    if (refreshMs > 0 && scheduler === asyncScheduler) {
      // A real interval, unref'd so an idle client does not keep the process alive.
      const timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs);
      timer.unref();
      this.timer = timer;
    } else if (refreshMs > 0) {
      this.timer = interval(refreshMs, scheduler).subscribe(() => void this.refresh().catch(() => undefined));
    }
  }

  /** A Metadata call to `address` within the request timeout, on the client's scheduler. */
  private async callMetadata(address: string, topics: string[]): Promise<MetadataResponse> {
    const timer = deadline(this.requestTimeoutMs, this.scheduler);
    try {
      return await this.options.pool.get(address).client.metadata({ topics }, { signal: timer.signal });
    } finally {
      timer.clear();
    }
  }

  /** Asks the cluster again, for the topics known so far plus `topics`; concurrent calls share one request. */
  refresh(topics: string[] = []): Promise<void> {
    if (this.refreshing !== undefined) {
      if (topics.every((t) => this.inFlightTopics.has(t))) return this.refreshing;
      return this.refreshing.catch(() => undefined).then(() => this.refresh(topics));
    }
    for (const t of topics) this.wanted.add(t);
    this.inFlightTopics = new Set(this.wanted);
    this.refreshing = this.fetch([...this.wanted]).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async fetch(topics: string[]): Promise<void> {
    const known = [...new Set([...this.options.bootstrap, ...this.agents.values()])];
    // Unreachable agents last: one that answers is reachable again.
    const addresses = [
      ...known.filter((a) => !this.unreachable.has(a)),
      ...known.filter((a) => this.unreachable.has(a)),
    ];
    let lastError: unknown;
    for (const address of addresses) {
      try {
        const response = await this.callMetadata(address, topics);
        this.reachedAgain(address);
        this.apply(response);
        return;
      } catch (error) {
        // Every agent checks the same credentials: another one would refuse them too.
        if (error instanceof UnauthenticatedError) throw error;
        lastError = error;
        this.options.pool.invalidate(address);
        if (error instanceof AgentUnavailableError) this.markUnreachable(address);
      }
    }
    throw new AgentUnavailableError(`no agent answered Metadata (tried ${addresses.join(', ')})`, { cause: lastError });
  }

  private apply(response: MetadataResponse): void {
    for (const topic of response.topics) {
      this.deniedTopics.delete(topic.name);
      if (topic.error === undefined) {
        this.topics.set(topic.name, topic);
      } else {
        this.topics.delete(topic.name);
        this.wanted.delete(topic.name);
        if (topic.error.code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) this.deniedTopics.set(topic.name, topic.error);
      }
    }
    if (response.agents.length > 0) {
      this.agents = new Map(response.agents.map((a) => [a.agentId, a.address]));
      this.ring = new HashRing(this.agents.keys());
      const listed = new Set(this.agents.values());
      for (const address of this.unreachable) {
        if (listed.has(address)) this.probe(address);
        // Not listed (nor a bootstrap address): nothing routes to it; if it is listed again, it has registered anew.
        else if (!this.options.bootstrap.includes(address)) this.unreachable.delete(address);
      }
      this.updateRouting();
    }
  }

  /**
   * Leaves `address` out of routing (as lease holder, on the ring, as any
   * agent) after a call to it failed with a connection error, until a
   * Metadata answer lists it and it answers.
   */
  markUnreachable(address: string): void {
    if (this.unreachable.has(address)) return;
    this.unreachable.add(address);
    this.updateRouting();
    this.options.logger?.warn({ address }, 'agent unreachable: routing around it');
  }

  private reachedAgain(address: string): void {
    if (!this.unreachable.delete(address)) return;
    this.updateRouting();
    this.options.logger?.info({ address }, 'agent reachable again');
  }

  /**
   * Calls an unreachable agent that Metadata lists (asking for the first topic wanted, if any): an answer brings it
   * back. A failed probe is tried again after 200 ms, doubling, up to PROBE_ATTEMPTS times (a channel that has just
   * failed may refuse at once for a moment); then the next Metadata answer starts over.
   */
  private probe(address: string, attempt = 0): void {
    if (this.closed || this.probing.has(address)) return;
    this.probing.add(address);
    const topics = [...this.wanted].slice(0, 1);
    void (async () => {
      try {
        await this.callMetadata(address, topics);
        this.reachedAgain(address);
      } catch {
        this.options.pool.invalidate(address);
        if (attempt + 1 < PROBE_ATTEMPTS && !this.closed) {
          const timer = this.scheduler.schedule(
            () => {
              this.probeTimers.delete(timer);
              if (this.unreachable.has(address)) this.probe(address, attempt + 1);
            },
            PROBE_BACKOFF_MS * 2 ** attempt,
          );
          this.probeTimers.add(timer);
        }
      } finally {
        this.probing.delete(address);
      }
    })();
  }

  private updateRouting(): void {
    this.reachable = new Map([...this.agents].filter(([, address]) => !this.unreachable.has(address)));
    this.reachableRing = this.reachable.size === this.agents.size ? this.ring : new HashRing(this.reachable.keys());
  }

  /**
   * The topic's metadata, asking the cluster when unknown; UnknownTopicOrPartitionError if there is none,
   * TopicAuthorizationFailedError if the agent may not describe it to this client.
   */
  async topic(name: string): Promise<TopicMetadata> {
    const known = this.topics.get(name);
    if (known !== undefined) return known;
    await this.refresh([name]);
    const found = this.topics.get(name);
    const denied = this.deniedTopics.get(name);
    if (found === undefined && denied !== undefined) throw fromErrorInfo(denied, { topic: name })!;
    if (found === undefined)
      throw new UnknownTopicOrPartitionError(`topic ${name} does not exist`, { context: { topic: name } });
    return found;
  }

  /** The partition count of a topic already known, else undefined (no I/O). */
  knownPartitionCount(name: string): number | undefined {
    return this.topics.get(name)?.partitions.length;
  }

  /**
   * Address of the agent to send a partition's requests to: its lease holder, else the ring's choice, among reachable
   * agents.
   */
  addressFor(topic: string, partition: number): string {
    const leader = this.topics.get(topic)?.partitions[partition]?.leaderAddress ?? '';
    if (leader !== '' && !this.unreachable.has(leader)) return leader;
    if (this.reachable.size > 0) return this.reachable.get(this.reachableRing.lookup(topic, partition))!;
    // Every agent known is unreachable: try them anyway, lease holder first (the caller's backoff paces it).
    if (leader !== '') return leader;
    if (this.agents.size > 0) return this.agents.get(this.ring.lookup(topic, partition))!;
    return this.options.bootstrap[0]!;
  }

  /** Some agent to send a call that any agent can answer (admin, producer ids): a reachable one when there is one. */
  anyAddress(): string {
    const first = this.reachable.values().next();
    if (first.done !== true) return first.value;
    const any = this.agents.values().next();
    return any.done === true ? this.options.bootstrap[0]! : any.value;
  }

  /** Live agents by id, without the unreachable ones (see {@link markUnreachable}). */
  liveAgents(): ReadonlyMap<string, string> {
    return this.reachable;
  }

  /** Whether calls to `address` failed with a connection error and it has not answered since. */
  isUnreachable(address: string): boolean {
    return this.unreachable.has(address);
  }

  /** Forgets a partition's leader (it answered NOT_LEADER) until the next refresh. */
  forgetLeader(topic: string, partition: number): void {
    const meta = this.topics.get(topic)?.partitions[partition];
    if (meta !== undefined) meta.leaderAddress = '';
  }

  close(): void {
    this.closed = true;
    for (const timer of this.probeTimers) timer.unsubscribe();
    this.probeTimers.clear();
    if (this.timer !== undefined && 'unsubscribe' in this.timer) this.timer.unsubscribe();
    else if (this.timer !== undefined) clearInterval(this.timer);
  }
}
