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

describe('cli: consume names a partition or topic that does not exist (spawned, against a real agent)', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores);
    await agent.connection.client.createTopic({ name: 't', partitions: 3 });
    await produce(agent.connection, 't', 2, records(2));
  });
  after(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('fails with UNKNOWN_TOPIC_OR_PARTITION instead of waiting', async () => {
    const [partition, topic] = await Promise.all([
      runCli(['consume', 't', '--agent', agent.agent.address, '--partition', '3', '--from-beginning']),
      runCli(['consume', 'nope', '--agent', agent.agent.address, '--from-beginning']),
    ]);
    expect(partition.code).to.equal(1);
    expect(partition.stderr).to.equal(
      'error UNKNOWN_TOPIC_OR_PARTITION: topic t has 3 partitions; there is no partition 3\n',
    );
    expect(topic.code).to.equal(1);
    expect(topic.stderr).to.equal('error UNKNOWN_TOPIC_OR_PARTITION: no topic nope\n');
  });

  it('reads an existing partition', async () => {
    const run = await runCli([
      'consume',
      't',
      '--agent',
      agent.agent.address,
      '--partition',
      '2',
      '--from-beginning',
      '--max-messages',
      '2',
      '--print-offsets',
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('2@0\tv-0\n2@1\tv-1\n');
  });
});
