/**
 * kcat (librdkafka 2.x, Debian's package) against an agent's Kafka port:
 * metadata, keyed produce with headers from stdin, consume from the
 * beginning. Skipped, saying so, when the kcat binary is missing
 * (`.ci/run` installs it).
 */
import { expect } from 'chai';
import { nodeIdOf } from '../../src/kafka/brokers.js';
import { hasKcat, kcat } from './support/kcat.js';
import { createTestStores, startTestAgent, readAll, type TestAgent, type TestStores } from '../support/agentHarness.js';

describe('Kafka listener with kcat', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let broker: string;

  before(async function () {
    if (!hasKcat()) {
      console.warn('    kcat is not installed (apt-get install kcat): skipping the kcat specs');
      this.skip();
    }
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0 });
    broker = agent.agent.kafkaAddress!;
    await agent.connection.client.createTopic({ name: 'kcat-a', partitions: 2, config: undefined });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('lists brokers and topics with -L', async () => {
    const out = await kcat(['-b', broker, '-L', '-J']);
    const meta = JSON.parse(out) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    const nodeId = nodeIdOf(agent.agent.agentId);
    expect(meta.controllerid).to.equal(nodeId);
    expect(meta.brokers).to.deep.equal([{ id: nodeId, name: broker }]);
    const topic = meta.topics.find((t) => t.topic === 'kcat-a')!;
    expect(topic.partitions.map((p) => [p.partition, p.leader])).to.deep.equal([
      [0, nodeId],
      [1, nodeId],
    ]);
  });

  it('produces keyed records with headers from stdin, which our agent stores and kcat reads back', async () => {
    await kcat(['-b', broker, '-P', '-t', 'kcat-a', '-p', '0', '-K:', '-H', 'h1=v1'], 'k1:hello\nk2:world\n');
    expect(await readAll(agent.connection, 'kcat-a', 0)).to.deep.equal([
      [0, 'hello'],
      [1, 'world'],
    ]);
    const out = await kcat([
      '-b',
      broker,
      '-C',
      '-t',
      'kcat-a',
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%o %k:%s %h\n',
    ]);
    expect(out.trim().split('\n')).to.deep.equal(['0 k1:hello h1=v1', '1 k2:world h1=v1']);
  });

  it('consumes every partition from the beginning with -e', async () => {
    await kcat(['-b', broker, '-P', '-t', 'kcat-a', '-p', '1', '-K:'], 'a:x\nb:y\nc:z\n');
    const out = await kcat(['-b', broker, '-C', '-t', 'kcat-a', '-o', 'beginning', '-e', '-f', '%p/%o %k=%s\n']);
    expect(out.trim().split('\n').sort()).to.deep.equal([
      '0/0 k1=hello',
      '0/1 k2=world',
      '1/0 a=x',
      '1/1 b=y',
      '1/2 c=z',
    ]);
  });
});
