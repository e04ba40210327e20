/**
 * The operator commands (topics alter, groups, agents, cluster) and --json,
 * spawned as a user runs them against a real agent; outputs compared exactly.
 */
import { expect } from 'chai';
import { runCli } from '../support/cli.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

const DEFAULTS = { retentionMs: -1, retentionBytes: -1, segmentBytes: 67108864, maxMessageBytes: 1048576 };

describe('cli: topics alter, groups, agents, cluster, in tables and --json (spawned, real agent)', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let address: string;
  let agentId: string;
  const cli = (args: string[]) => runCli([...args, '--agent', address]);

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { groupInitialRebalanceDelayMs: 0 });
    address = agent.agent.address;
    agentId = agent.agent.agentId;
    await agent.connection.client.createTopic({ name: 'orders', partitions: 2 });
    await agent.connection.client.createTopic({ name: 'quiet', partitions: 1 });
    await produce(agent.connection, 'orders', 0, records(3));
    await produce(agent.connection, 'orders', 1, records(1));
  });
  after(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('topics alter changes only the settings given, in a table or as JSON', async () => {
    const table = await cli(['topics', 'alter', 'quiet', '--retention-ms', '60000', '--max-message-bytes', '2048']);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.equal(
      'topic quiet: 1 partitions (retention.ms 60000, retention.bytes -1, segment.bytes 67108864, max.message.bytes ' +
        '2048)\n' +
        '  partition 0: offsets [0, 0)  leader -   epoch 0\n',
    );
    const json = await cli([
      'topics',
      'alter',
      'quiet',
      '--retention-bytes',
      '1048576',
      '--segment-bytes',
      '2097152',
      '--json',
    ]);
    expect(json.code, json.stderr).to.equal(0);
    const altered = JSON.parse(json.stdout) as { name: string; config: object; partitions: object[] };
    expect([altered.name, altered.config, altered.partitions]).to.deep.equal([
      'quiet',
      { retentionMs: 60000, retentionBytes: 1048576, segmentBytes: 2097152, maxMessageBytes: 2048 },
      [{ partition: 0, leaderAgentId: '', leaderAddress: '', leaseEpoch: 0, highWatermark: 0, logStartOffset: 0 }],
    ]);
    const { topic } = await agent.connection.client.describeTopic({ name: 'quiet' });
    expect(topic!.config).to.deep.equal(altered.config);
  });

  it('topics alter refuses bad values, no setting and unknown topics, changing nothing', async () => {
    const runs = await Promise.all([
      cli(['topics', 'alter', 'orders', '--retention-ms', '0']),
      cli(['topics', 'alter', 'orders', '--segment-bytes', '1024']),
      cli(['topics', 'alter', 'orders', '--max-message-bytes', 'big']),
      cli(['topics', 'alter', 'orders']),
      cli(['topics', 'alter', 'nope', '--retention-ms', '1000']),
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [
        1,
        '',
        "error: option '--retention-ms <ms>' argument '0' is invalid. --retention-ms must be -1 (keep forever) or a " +
          "decimal integer from 1 to 9007199254740991, got '0'.\n",
      ],
      [
        1,
        '',
        "error: option '--segment-bytes <bytes>' argument '1024' is invalid. --segment-bytes must be a decimal " +
          "integer from 1048576 to 1073741824, got '1024'.\n",
      ],
      [
        1,
        '',
        "error: option '--max-message-bytes <bytes>' argument 'big' is invalid. --max-message-bytes must be a " +
          "decimal integer from 1 to 67108864, got 'big'.\n",
      ],
      [
        1,
        '',
        'error INVALID_REQUEST: nothing to alter: give at least one of --retention-ms, --retention-bytes, ' +
          '--segment-bytes, --max-message-bytes\n',
      ],
      [1, '', "error UNKNOWN_TOPIC_OR_PARTITION: topic 'nope' does not exist\n"],
    ]);
    const { topic } = await agent.connection.client.describeTopic({ name: 'orders' });
    expect(topic!.config).to.deep.equal(DEFAULTS);
  });

  it('AlterTopicConfig refuses a config the CLI would not send, or an unknown topic, changing nothing', async () => {
    const { client } = agent.connection;
    const zero = { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 };
    const refusals = await Promise.all(
      [
        { name: 'orders', config: { ...zero, retentionMs: -5 } },
        { name: 'orders', config: { ...zero, segmentBytes: 1 } },
        { name: 'orders', config: { ...zero, maxMessageBytes: -1 } },
        { name: 'nope', config: { ...zero, retentionMs: 1000 } },
      ].map((request) =>
        client.alterTopicConfig(request).then(
          () => 'accepted',
          (error: { code: string }) => error.code,
        ),
      ),
    );
    expect(refusals).to.deep.equal([
      'INVALID_CONFIG',
      'INVALID_CONFIG',
      'INVALID_CONFIG',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
    const { topic } = await client.describeTopic({ name: 'orders' });
    expect(topic!.config).to.deep.equal(DEFAULTS);
  });

  it('topics list and describe as JSON', async () => {
    const list = await cli(['topics', 'list', '--json']);
    expect(list.stdout).to.equal('{"topics":["orders","quiet"]}\n');
    const described = await cli(['topics', 'describe', 'orders', '--json']);
    expect(described.code, described.stderr).to.equal(0);
    const topic = JSON.parse(described.stdout) as {
      id: string;
      partitions: { partition: number; highWatermark: number; leaderAgentId: string; leaderAddress: string }[];
    };
    expect(topic.id).to.equal((await agent.connection.client.describeTopic({ name: 'orders' })).topic!.topicId);
    expect(topic.id).to.match(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
    expect(topic.partitions.map((p) => [p.partition, p.highWatermark, p.leaderAgentId, p.leaderAddress])).to.deep.equal(
      [
        [0, 3, agentId, address],
        [1, 1, agentId, address],
      ],
    );
  });

  it('agents list: id, address, heartbeat age and partitions led', async () => {
    const table = await cli(['agents', 'list']);
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.split('\n');
    const width = Math.max('AGENT'.length, agentId.length);
    expect(lines[0]).to.equal(
      `${'AGENT'.padEnd(width)}  ${'ADDRESS'.padEnd(address.length)}  HEARTBEAT AGE  PARTITIONS`,
    );
    expect(lines[1]).to.match(new RegExp(`^${agentId.padEnd(width)}  ${address}  \\d+\\.\\d s +  2$`));
    expect(lines.slice(2)).to.deep.equal(['']);
    const json = await cli(['agents', 'list', '--json']);
    const { agents } = JSON.parse(json.stdout) as { agents: { heartbeatAgeMs: number; startedAtMs: number }[] };
    expect(agents.length).to.equal(1);
    expect(agents[0]!.heartbeatAgeMs).to.be.within(0, 10_000);
    expect(agents[0]).to.deep.equal({
      agentId,
      address,
      startedAtMs: agents[0]!.startedAtMs,
      heartbeatAgeMs: agents[0]!.heartbeatAgeMs,
      partitions: 2,
    });
  });

  it('cluster status: agents, topics, partitions and leaders', async () => {
    const table = await cli(['cluster', 'status']);
    expect(table.code, table.stderr).to.equal(0);
    const width = Math.max('AGENT'.length, agentId.length);
    expect(table.stdout).to.equal(
      [
        `answered by  ${agentId}`,
        'agents       1',
        'topics       2',
        'partitions   3 (2 with a leader, 1 without)',
        '',
        `${'AGENT'.padEnd(width)}  LEADS`,
        `${agentId.padEnd(width)}  2`,
        '',
      ].join('\n'),
    );
    const json = await cli(['cluster', 'status', '--json']);
    expect(JSON.parse(json.stdout)).to.deep.equal({
      answeredBy: agentId,
      agents: 1,
      topics: 2,
      partitions: 3,
      partitionsWithLeader: 2,
      partitionsWithoutLeader: 1,
      leaders: [{ agentId, partitions: 2 }],
    });
  });

  it('groups list, describe and reset-offsets of an empty group, in tables and as JSON', async () => {
    expect((await cli(['groups', 'list'])).stdout).to.equal('no consumer groups\n');
    await agent.connection.client.commitOffsets({
      groupId: 'billing',
      generationId: -1,
      memberId: '',
      partitions: [
        { topic: 'orders', partition: 0, offset: 1, metadata: '' },
        { topic: 'orders', partition: 1, offset: 1, metadata: '' },
      ],
    });
    expect((await cli(['groups', 'list'])).stdout).to.equal('GROUP    STATE  MEMBERS\nbilling  empty  0\n');
    expect((await cli(['groups', 'list', '--json'])).stdout).to.equal(
      '{"groups":[{"groupId":"billing","state":"empty","members":0}]}\n',
    );
    expect((await cli(['groups', 'describe', 'billing'])).stdout).to.equal(
      [
        'group billing: empty, generation 0, 0 members',
        '',
        'TOPIC   PARTITION  COMMITTED  HIGH WATERMARK  LAG',
        'orders  0          1          3               2',
        'orders  1          1          1               0',
        'total lag 2',
        '',
      ].join('\n'),
    );
    expect(JSON.parse((await cli(['groups', 'describe', 'billing', '--json'])).stdout)).to.deep.equal({
      groupId: 'billing',
      state: 'empty',
      generation: 0,
      protocolName: '',
      leaderId: '',
      members: [],
      offsets: [
        { topic: 'orders', partition: 0, committed: 1, highWatermark: 3, lag: 2 },
        { topic: 'orders', partition: 1, committed: 1, highWatermark: 1, lag: 0 },
      ],
      totalLag: 2,
    });

    const earliest = await cli(['groups', 'reset-offsets', 'billing', '--to-earliest']);
    expect(earliest.stdout).to.equal(
      'TOPIC   PARTITION  PREVIOUS  OFFSET\norders  0          1         0\norders  1          1         0\n',
    );
    const latest = await cli(['groups', 'reset-offsets', 'billing', '--to-latest', '--json']);
    expect(latest.stdout).to.equal(
      '{"groupId":"billing","offsets":[{"topic":"orders","partition":0,"offset":3,"previous":0},' +
        '{"topic":"orders","partition":1,"offset":1,"previous":0}]}\n',
    );
    // records(n) are stamped 1_700_000_000_000 + i: the first at or after +2 is offset 2 of partition 0; none on
    // partition 1.
    const byTime = await cli([
      'groups',
      'reset-offsets',
      'billing',
      '--topic',
      'orders',
      '--to-timestamp',
      '1700000000002',
    ]);
    expect(byTime.stdout).to.equal(
      'TOPIC   PARTITION  PREVIOUS  OFFSET\norders  0          3         2\norders  1          1         1\n',
    );
    const one = await cli([
      'groups',
      'reset-offsets',
      'billing',
      '--topic',
      'orders',
      '--partition',
      '0',
      '--to-offset',
      '1',
    ]);
    expect(one.stdout).to.equal('TOPIC   PARTITION  PREVIOUS  OFFSET\norders  0          2         1\n');
    const refused = await Promise.all([
      cli(['groups', 'reset-offsets', 'billing', '--to-offset', '2']),
      cli(['groups', 'reset-offsets', 'billing', '--topic', 'nope', '--to-earliest']),
      cli(['groups', 'reset-offsets', 'billing', '--partition', '0', '--to-earliest']),
      cli(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--partition', '2', '--to-earliest']),
      cli(['groups', 'reset-offsets', 'fresh', '--to-earliest']),
    ]);
    expect(refused.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [1, '', "error OFFSET_OUT_OF_RANGE: offset 2 is outside orders/1's offsets 0 to 1\n"],
      [1, '', 'error UNKNOWN_TOPIC_OR_PARTITION: no topic nope\n'],
      [1, '', 'error INVALID_REQUEST: --partition needs --topic\n'],
      [1, '', 'error UNKNOWN_TOPIC_OR_PARTITION: topic orders has 2 partitions; there is no partition 2\n'],
      [1, '', 'error INVALID_REQUEST: group fresh has no committed offsets: name a --topic\n'],
    ]);
    const { offsets } = await agent.connection.client.fetchOffsets({ groupId: 'billing', partitions: [] });
    expect(offsets.map((o) => [o.topic, o.partition, o.offset])).to.deep.equal([
      ['orders', 0, 1],
      ['orders', 1, 1],
    ]);
    // A group that does not exist yet is given offsets on the topic named.
    const fresh = await cli(['groups', 'reset-offsets', 'fresh', '--topic', 'orders', '--to-latest', '--json']);
    expect(fresh.stdout).to.equal(
      '{"groupId":"fresh","offsets":[{"topic":"orders","partition":0,"offset":3,"previous":-1},' +
        '{"topic":"orders","partition":1,"offset":1,"previous":-1}]}\n',
    );
  });

  it('groups reset-offsets refuses a group with live members, and not one target, changing nothing', async () => {
    const { client } = agent.connection;
    await client.commitOffsets({
      groupId: 'live',
      generationId: -1,
      memberId: '',
      partitions: [{ topic: 'orders', partition: 0, offset: 2, metadata: '' }],
    });
    const joined = await client.joinGroup({
      groupId: 'live',
      memberId: '',
      clientId: 'worker',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    await client.syncGroup({
      groupId: 'live',
      generationId: joined.generationId,
      memberId: joined.memberId,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(0) }],
    });
    const runs = await Promise.all([
      cli(['groups', 'reset-offsets', 'live', '--to-earliest']),
      cli(['groups', 'reset-offsets', 'live']),
      cli(['groups', 'reset-offsets', 'live', '--to-earliest', '--to-latest']),
      cli(['groups', 'reset-offsets', 'live', '--topic', 'nope', '--to-earliest']),
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [
        1,
        '',
        'error ILLEGAL_GENERATION: group live has 1 live member: its offsets can only be changed while it is empty ' +
          '(stop its consumers first)\n',
      ],
      [1, '', 'error INVALID_REQUEST: give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp\n'],
      [1, '', 'error INVALID_REQUEST: give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp\n'],
      [
        1,
        '',
        'error ILLEGAL_GENERATION: group live has 1 live member: its offsets can only be changed while it is empty ' +
          '(stop its consumers first)\n',
      ],
    ]);
    const described = await cli(['groups', 'describe', 'live']);
    expect(described.stdout).to.equal(
      [
        'group live: stable, generation 1, 1 member, protocol range',
        '',
        `MEMBER${' '.repeat(joined.memberId.length - 6)}  CLIENT  LEADER`,
        `${joined.memberId}  worker  yes`,
        '',
        'TOPIC   PARTITION  COMMITTED  HIGH WATERMARK  LAG',
        'orders  0          2          3               1',
        'total lag 1',
        '',
      ].join('\n'),
    );
    const { offsets } = await client.fetchOffsets({ groupId: 'live', partitions: [] });
    expect(offsets.map((o) => [o.topic, o.partition, o.offset])).to.deep.equal([['orders', 0, 2]]);
    const refused = await cli(['groups', 'delete', 'live']);
    expect([refused.code, refused.stdout, refused.stderr]).to.deep.equal([
      1,
      '',
      'error ILLEGAL_GENERATION: group live has 1 member: only an empty group can be deleted (stop its consumers ' +
        'first)\n',
    ]);
    expect((await client.describeGroup({ groupId: 'live' })).members.length).to.equal(1);
    await client.leaveGroup({ groupId: 'live', memberId: joined.memberId });
  });

  it('groups delete removes an empty group and its offsets; refuses an unknown or malformed id', async () => {
    const { client } = agent.connection;
    for (const groupId of ['gone', 'gone-too']) {
      await client.commitOffsets({
        groupId,
        generationId: -1,
        memberId: '',
        partitions: [{ topic: 'orders', partition: 1, offset: 1, metadata: '' }],
      });
    }
    const runs = await Promise.all([
      cli(['groups', 'delete', 'gone']),
      cli(['groups', 'delete', 'gone-too', '--json']),
      cli(['groups', 'delete', 'never']),
      cli(['groups', 'delete', 'x'.repeat(256)]),
      cli(['groups', 'describe', 'never']),
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [0, 'deleted group gone\n', ''],
      [0, '{"deleted":"gone-too"}\n', ''],
      [1, '', 'error GROUP_ID_NOT_FOUND: group never does not exist\n'],
      [1, '', 'error INVALID_REQUEST: group id is 256 characters long: shorten it to at most 255\n'],
      [1, '', 'error GROUP_ID_NOT_FOUND: group never does not exist\n'],
    ]);
    const { groups } = await client.listGroups({});
    expect(groups.map((g) => g.groupId).filter((id) => id.startsWith('gone'))).to.deep.equal([]);
    expect((await client.fetchOffsets({ groupId: 'gone', partitions: [] })).offsets).to.deep.equal([]);
  });
});
