/**
 * produce and consume with keys, headers, JSON lines, timestamps and groups,
 * and the errors every client command gives for an agent that does not
 * answer; spawned as a user runs them, outputs compared exactly.
 */
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { runCli } from './cliSupport.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

describe('cli: produce and consume with keys, headers, timestamps and groups (spawned, real agent)', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  const cli = (args: string[], input = '') =>
    runCli([...args, '--agent', agent.agent.address], input === '' ? {} : { input });

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores);
    await agent.connection.client.createTopic({ name: 'lines', partitions: 1 });
    await agent.connection.client.createTopic({ name: 'stamped', partitions: 2 });
    await produce(agent.connection, 'stamped', 0, records(5));
    await produce(agent.connection, 'stamped', 1, records(2, 'w'));
  });
  after(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('produce reads JSON lines with keys and headers, adds --header to each, and reports batches as JSON', async () => {
    const input =
      '{"key":"k1","value":"plain","headers":{"trace":"t1","empty":null}}\n' +
      '{"value":{"n":1}}\n' +
      '{"key":null,"value":null}\n';
    const run = await cli(['produce', 'lines', '-f', 'json', '-H', 'source=cli', '--json'], input);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('{"topic":"lines","partition":0,"records":3,"baseOffset":0}\n');
    expect(run.stderr).to.equal('');
    const text = await cli(['produce', 'lines', '-k', ':', '-H', 'a=1', '-H', 'b='], 'key:value\n');
    expect(text.stderr).to.equal('lines/0: 1 records at offset 3\nsent 1 records to lines\n');
    const read = await cli([
      'consume',
      'lines',
      '--from-beginning',
      '--no-follow',
      '--print-offsets',
      '--print-keys',
      '--print-headers',
    ]);
    expect(read.code, read.stderr).to.equal(0);
    expect(read.stdout).to.equal(
      '0@0\tk1\tsource=cli,trace=t1,empty\tplain\n' +
        '0@1\t\tsource=cli\t{"n":1}\n' +
        '0@2\t\tsource=cli\t\n' +
        '0@3\tkey\ta=1,b=\tvalue\n',
    );
  });

  it('produce refuses a line that is not a record, naming it, and sends nothing of its batch', async () => {
    const runs = await Promise.all([
      cli(['produce', 'lines', '-f', 'json'], '{"value":"ok"}\nnot json\n'),
      cli(['produce', 'lines', '-f', 'json'], '[1]\n'),
      cli(['produce', 'lines', '-f', 'json'], '{"value":"x","headers":{"h":1}}\n'),
      cli(['produce', 'lines', '-f', 'json'], '{"value":"x","partition":0}\n'),
      cli(['produce', 'lines', '-H', 'novalue'], 'x\n'),
      cli(['produce', 'nope'], 'x\n'),
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [1, '', 'error INVALID_RECORD: line 2: not valid JSON\n'],
      [1, '', 'error INVALID_RECORD: line 1: expected a JSON object with "value" and optionally "key" and "headers"\n'],
      [1, '', "error INVALID_RECORD: line 1: header 'h' must be a string or null\n"],
      [1, '', "error INVALID_RECORD: line 1: unknown field 'partition': use key, value, headers\n"],
      [1, '', "error INVALID_RECORD: --header must be name=value, got 'novalue'\n"],
      [1, '', 'error UNKNOWN_TOPIC_OR_PARTITION: no topic nope\n'],
    ]);
    const { topic } = await agent.connection.client.describeTopic({ name: 'lines' });
    expect(topic!.partitions[0]!.highWatermark).to.equal(4);
  });

  it('consume --from-timestamp starts at the first record at or after it; --json prints each record', async () => {
    // records(n) are stamped 1_700_000_000_000 + i.
    const run = await cli(['consume', 'stamped', '--from-timestamp', '1700000000001', '--no-follow', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    const line = (partition: number, offset: number, value: string) =>
      `{"partition":${partition},"offset":${offset},"timestamp":${1_700_000_000_000 + offset},` +
      `"key":"k${offset}","value":"${value}","headers":{}}`;
    expect(run.stdout).to.equal(
      [line(0, 1, 'v-1'), line(0, 2, 'v-2'), line(0, 3, 'v-3'), line(0, 4, 'v-4'), line(1, 1, 'w-1'), ''].join('\n'),
    );
    const timed = await cli([
      'consume',
      'stamped',
      '--partition',
      '0',
      '--from-timestamp',
      '1700000000003',
      '--no-follow',
      '--print-timestamps',
    ]);
    expect(timed.stdout).to.equal('1700000000003\tv-3\n1700000000004\tv-4\n');
    const after = await cli(['consume', 'stamped', '--from-timestamp', '1800000000000', '--no-follow']);
    expect([after.code, after.stdout]).to.deep.equal([0, '']);
  });

  it('consume --group starts at the committed offsets and commits the positions reached', async () => {
    const first = await cli([
      'consume',
      'stamped',
      '--group',
      'readers',
      '--from-beginning',
      '--partition',
      '0',
      '-n',
      '2',
    ]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.equal('v-0\nv-1\n');
    const rest = await cli([
      'consume',
      'stamped',
      '--group',
      'readers',
      '--from-beginning',
      '--no-follow',
      '--print-offsets',
    ]);
    expect(rest.stdout).to.equal('0@2\tv-2\n0@3\tv-3\n0@4\tv-4\n1@0\tw-0\n1@1\tw-1\n');
    const { offsets } = await agent.connection.client.fetchOffsets({ groupId: 'readers', partitions: [] });
    expect(offsets.map((o) => [o.topic, o.partition, o.offset])).to.deep.equal([
      ['stamped', 0, 5],
      ['stamped', 1, 2],
    ]);
    const none = await cli(['consume', 'stamped', '--group', 'readers', '--no-follow']);
    expect([none.code, none.stdout]).to.deep.equal([0, '']);
  });
});

describe('cli: an agent that does not answer (spawned)', function () {
  this.timeout(90_000);
  let silent: Server;
  const sockets: Socket[] = [];

  before(async () => {
    // Accepts connections and never speaks: an agent that hangs.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('says no agent answers at the address of a stopped agent, a wrong host, or one too slow to answer', async () => {
    const stores = await createTestStores('sqlite');
    const agent = await startTestAgent(stores);
    const stopped = agent.agent.address;
    await agent.stop();
    await stores.cleanup();
    const port = (silent.address() as { port: number }).port;
    // Seven CLIs start at once (tsx each): give them time on a loaded 2-core machine; the answers are what counts.
    const slow = { timeoutMs: 45_000 };
    const runs = await Promise.all([
      runCli(['topics', 'list', '--agent', stopped], slow),
      runCli(['cluster', 'status', '--agent', stopped, '--json'], slow),
      runCli(['produce', 't', '--agent', stopped], { ...slow, input: 'x\n' }),
      runCli(['topics', 'list', '--agent', 'no-such-host.invalid:9660'], slow),
      runCli(['groups', 'list', '--agent', `127.0.0.1:${port}`, '--timeout-ms', '500'], slow),
      runCli(['consume', 't', '--agent', `127.0.0.1:${port}`, '--timeout-ms', '500'], slow),
      runCli(['agents', 'list', '--timeout-ms', '0'], slow),
    ]);
    expect(runs.map((r) => [r.code, r.stdout, r.stderr])).to.deep.equal([
      [1, '', `error AGENT_UNAVAILABLE: no agent answers at ${stopped}\n`],
      [1, '', `error AGENT_UNAVAILABLE: no agent answers at ${stopped}\n`],
      [1, '', `error AGENT_UNAVAILABLE: no agent answers at ${stopped}\n`],
      [1, '', 'error AGENT_UNAVAILABLE: no agent answers at no-such-host.invalid:9660\n'],
      [1, '', `error AGENT_UNAVAILABLE: no agent answers at 127.0.0.1:${port} within 500 ms\n`],
      [1, '', `error AGENT_UNAVAILABLE: no agent answers at 127.0.0.1:${port} within 500 ms\n`],
      [
        1,
        '',
        "error: option '--timeout-ms <ms>' argument '0' is invalid. --timeout-ms must be a decimal integer from 1 " +
          "to 3600000, got '0'.\n",
      ],
    ]);
  });
});
