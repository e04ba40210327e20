/**
 * Live agents as Kafka brokers. Each agent gets a node id derived from its
 * agent id (murmur2, positive int32), the same on every agent; on a clash
 * the agent later in id order takes the next free id. A partition's leader is
 * its lease holder, else the agent the consistent-hash ring picks, the same
 * agent our own client asks first.
 *
 * Each agent registers its Kafka address in the metadata store and is
 * advertised at it. An agent registered without one (an older agent) is
 * advertised at its gRPC host with the asking agent's Kafka port.
 */
import type { AgentRecord } from '../metadata/metadataStore.js';
import { HashRing } from '../client/hashRing.js';
import { murmur2String, toPositive } from '../client/partitioners/murmur2.js';
import { splitHostPort, type KafkaContext } from './kafkaContext.js';

export type Broker = { agentId: string; nodeId: number; host: string; port: number };

export type BrokerView = {
  brokers: Broker[];
  self: Broker;
  /** Node id of the agent that should be asked about a partition. */
  leaderOf(topic: string, partition: number, leaseHolder: string): number;
};

/** The node id an agent id hashes to, before clashes are resolved. */
export function nodeIdOf(agentId: string): number {
  return toPositive(murmur2String(agentId));
}

/** Node ids of `agentIds`, distinct: on a clash the later id (in sorted order) moves up to the next free one. */
export function assignNodeIds(
  agentIds: readonly string[],
  hash: (agentId: string) => number = nodeIdOf,
): Map<string, number> {
  const ids = new Map<string, number>();
  const taken = new Set<number>();
  for (const agentId of [...new Set(agentIds)].sort()) {
    let id = hash(agentId);
    while (taken.has(id)) id = (id + 1) & 0x7fffffff;
    taken.add(id);
    ids.set(agentId, id);
  }
  return ids;
}

export async function brokerView(ctx: KafkaContext): Promise<BrokerView> {
  const agents: AgentRecord[] = await ctx.metadataStore.listLiveAgents(ctx.agentTtlMs);
  const ids = assignNodeIds([...agents.map((a) => a.agentId), ctx.agentId]);
  const own = splitHostPort(ctx.advertisedAddress());
  const self: Broker = { agentId: ctx.agentId, nodeId: ids.get(ctx.agentId)!, ...own };
  const broker = (agent: AgentRecord): Broker => {
    const { host, port } =
      agent.kafkaAddress !== undefined
        ? splitHostPort(agent.kafkaAddress)
        : { host: splitHostPort(agent.address).host, port: own.port };
    return { agentId: agent.agentId, nodeId: ids.get(agent.agentId)!, host, port };
  };
  const brokers = [self, ...agents.filter((a) => a.agentId !== ctx.agentId).map(broker)];
  const ring = new HashRing(brokers.map((b) => b.agentId));
  return {
    brokers,
    self,
    leaderOf(topic, partition, leaseHolder) {
      const holder = leaseHolder !== '' ? ids.get(leaseHolder) : undefined;
      return holder ?? ids.get(ring.lookup(topic, partition)) ?? self.nodeId;
    },
  };
}
