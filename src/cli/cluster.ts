/** `streamhouse agents list` and `streamhouse cluster status`: the live agents and who leads what. */
import { Command } from 'commander';
import type { MetadataResponse } from '../protocol/generated/streamhouse.js';
import { clientOptions, withAgent, type ClientFlags } from './agentCall.js';
import { printJson, printTable } from './output.js';

type AgentRow = { agentId: string; address: string; startedAtMs: number; heartbeatAgeMs: number; partitions: number };

/** Live agents with the number of partitions each leads; ages measured at `now`. */
function agentRows(meta: MetadataResponse, now: number): AgentRow[] {
  const held = new Map<string, number>();
  for (const t of meta.topics)
    for (const p of t.partitions)
      if (p.leaderAgentId !== '') held.set(p.leaderAgentId, (held.get(p.leaderAgentId) ?? 0) + 1);
  return meta.agents.map((a) => ({
    agentId: a.agentId,
    address: a.address,
    startedAtMs: a.startedAtMs,
    heartbeatAgeMs: Math.max(0, now - a.lastHeartbeatMs),
    partitions: held.get(a.agentId) ?? 0,
  }));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function agentsCommand(): Command {
  const agents = new Command('agents').description('the live agents');
  clientOptions(agents.command('list').description('live agents: id, address, heartbeat age, partitions led')).action(
    async (o: ClientFlags) => {
      const meta = await withAgent(o, (c) => c.metadata({ topics: [] }));
      const rows = agentRows(meta, Date.now());
      if (o.json) printJson({ agents: rows });
      else
        printTable(
          ['AGENT', 'ADDRESS', 'HEARTBEAT AGE', 'PARTITIONS'],
          rows.map((r) => [r.agentId, r.address, seconds(r.heartbeatAgeMs), r.partitions]),
        );
    },
  );
  return agents;
}

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('the cluster as a whole');
  clientOptions(
    cluster.command('status').description('agents, topics, partitions, and how many partitions have a leader'),
  ).action(async (o: ClientFlags) => {
    const meta = await withAgent(o, (c) => c.metadata({ topics: [] }));
    const partitions = meta.topics.flatMap((t) => t.partitions);
    const led = partitions.filter((p) => p.leaderAgentId !== '').length;
    const status = {
      answeredBy: meta.agentId,
      agents: meta.agents.length,
      topics: meta.topics.length,
      partitions: partitions.length,
      partitionsWithLeader: led,
      partitionsWithoutLeader: partitions.length - led,
      leaders: agentRows(meta, Date.now()).map((r) => ({ agentId: r.agentId, partitions: r.partitions })),
    };
    if (o.json) {
      printJson(status);
      return;
    }
    console.log(`answered by  ${status.answeredBy}`);
    console.log(`agents       ${status.agents}`);
    console.log(`topics       ${status.topics}`);
    console.log(`partitions   ${status.partitions} (${led} with a leader, ${status.partitionsWithoutLeader} without)`);
    if (status.leaders.length > 0) {
      console.log('');
      printTable(
        ['AGENT', 'LEADS'],
        status.leaders.map((l) => [l.agentId, l.partitions]),
      );
    }
  });
  return cluster;
}
