/**
 * A consistent-hash ring over the live agents: the client's fallback for
 * "which agent should I ask about topic/partition?" when it does not know the
 * partition's lease holder yet. Any agent can serve any partition after
 * taking its lease, so the ring only has to spread partitions evenly and keep
 * them put: when an agent leaves, only the partitions it had move (to the
 * next points on the ring); when one joins, only the partitions it takes
 * over move. Every client with the same agent list computes the same ring,
 * so they all ask the same agent and leases do not bounce between agents.
 *
 * Points are the unsigned murmur2 (Kafka's hash, see partitioners/murmur2)
 * of `${agentId}#${i}` for i < virtualNodes; a partition's position is the
 * murmur2 of `${topic}/${partition}`, and its agent owns the first point at
 * or after it (wrapping around).
 */
import { AgentUnavailableError, InvalidConfigError } from '../protocol/errors.js';
import { murmur2String } from './partitioners/murmur2.js';

/** Options of {@link HashRing}. */
export type HashRingOptions = {
  /**
   * Points per agent. More points spread partitions more evenly at the cost
   * of memory and build time (agents × points). Default 64.
   */
  virtualNodes?: number;
};

/** Default points per agent: within about ±30 % of an even share for a handful of agents. */
export const DEFAULT_VIRTUAL_NODES = 64;

/** An immutable ring; build a new one when the set of live agents changes. */
export class HashRing {
  /** The agents on the ring, sorted. */
  readonly agents: readonly string[];
  /** Point positions, ascending (unsigned 32-bit). */
  private readonly points: Uint32Array;
  /** `owners[i]` owns `points[i]`. */
  private readonly owners: string[];

  /**
   * @param agentIds the live agents (duplicates are ignored; may be empty).
   * @throws InvalidConfigError when `virtualNodes` is not a positive integer.
   */
  constructor(agentIds: Iterable<string>, options: HashRingOptions = {}) {
    const { virtualNodes = DEFAULT_VIRTUAL_NODES } = options;
    if (!Number.isSafeInteger(virtualNodes) || virtualNodes < 1) {
      throw new InvalidConfigError(`virtualNodes must be a positive integer, got ${virtualNodes}`);
    }
    this.agents = [...new Set(agentIds)].sort();
    const entries: { point: number; agent: string }[] = [];
    for (const agent of this.agents) {
      for (let i = 0; i < virtualNodes; i++) entries.push({ point: murmur2String(`${agent}#${i}`) >>> 0, agent });
    }
    // Equal points are ordered by agent id so the ring never depends on the
    // order agents were listed in.
    entries.sort((a, b) => a.point - b.point || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = entries.map((e) => e.agent);
  }

  /** How many agents are on the ring. */
  get size(): number {
    return this.agents.length;
  }

  /** Whether `agentId` is on the ring. */
  has(agentId: string): boolean {
    return this.agents.includes(agentId);
  }

  /**
   * The agent that should serve `topic`/`partition`.
   *
   * @throws AgentUnavailableError when the ring has no agents.
   */
  lookup(topic: string, partition: number): string {
    const points = this.points;
    if (points.length === 0) {
      throw new AgentUnavailableError(`no live agents to serve ${topic}/${partition}`, {
        context: { topic, partition },
      });
    }
    const position = murmur2String(`${topic}/${partition}`) >>> 0;
    // First point ≥ position (binary search); past the last point wraps to 0.
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < position) low = mid + 1;
      else high = mid;
    }
    return this.owners[low === points.length ? 0 : low]!;
  }
}
