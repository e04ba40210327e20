import { expect } from 'chai';
import { runCli } from '../support/cli.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';

describe('cli: topics create parses its numbers strictly (spawned, against a real agent)', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores);
  });
  after(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('refuses a malformed or out-of-range number with a clear message and exit code 1, creating nothing', async () => {
    const cases: [string[], string][] = [
      [
        ['--retention-ms', 'abc'],
        "--retention-ms must be -1 (keep forever) or a decimal integer from 1 to 9007199254740991, got 'abc'.",
      ],
      [
        ['--retention-ms', '1.5'],
        "--retention-ms must be -1 (keep forever) or a decimal integer from 1 to 9007199254740991, got '1.5'.",
      ],
      [
        ['--max-message-bytes', '4294967297'],
        "--max-message-bytes must be a decimal integer from 1 to 67108864, got '4294967297'.",
      ],
      [['--partitions', '0x10'], "--partitions must be a decimal integer from 1 to 10000, got '0x10'."],
    ];
    const runs = await Promise.all(
      cases.map(([flags]) => runCli(['topics', 'create', 'bad', '--agent', agent.agent.address, ...flags])),
    );
    runs.forEach((run, i) => {
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain(cases[i]![1]);
      expect(run.stdout).to.equal('');
    });
    expect((await agent.connection.client.listTopics({})).names).to.deep.equal([]);
  });

  it('creates the topic with exactly the values given, -1 meaning forever', async () => {
    const run = await runCli([
      'topics',
      'create',
      'good',
      '--agent',
      agent.agent.address,
      '--partitions',
      '3',
      '--retention-ms',
      '-1',
      '--retention-bytes',
      '1048576',
      '--max-message-bytes',
      '2048',
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const { topic } = await agent.connection.client.describeTopic({ name: 'good' });
    expect(topic!.partitions.length).to.equal(3);
    expect(topic!.config).to.deep.equal({
      retentionMs: -1,
      retentionBytes: 1048576,
      segmentBytes: 64 * 1024 * 1024,
      maxMessageBytes: 2048,
    });
  });
});
