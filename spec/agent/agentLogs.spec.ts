import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTestStores, produce, records, startTestAgent, type TestStores } from '../support/agentHarness.js';

type LogLine = { level: number; msg: string; agentId?: string; topic?: string; partition?: number };

describe('agent logs', () => {
  let stores: TestStores;
  beforeEach(async () => {
    stores = await createTestStores('sqlite');
  });
  afterEach(async () => {
    await stores.cleanup();
  });

  it('writes one JSON line per event, each naming the agent, and each lease acquisition once', async () => {
    const lines: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''))
          lines.push(JSON.parse(line));
        done();
      },
    });
    const agent = await startTestAgent(stores, { agentId: 'log-agent', logger: pino({ level: 'info' }, sink) });
    try {
      await agent.connection.client.createTopic({ name: 'logged', partitions: 2 });
      for (let i = 0; i < 3; i++) await produce(agent.connection, 'logged', 0, records(2, `a${i}-`));
      await produce(agent.connection, 'logged', 1, records(1));
    } finally {
      await agent.stop();
    }
    expect(lines.length).to.be.greaterThan(0);
    expect(lines.filter((l) => l.agentId !== 'log-agent')).to.deep.equal([]);
    const acquired = lines.filter((l) => l.msg === 'lease acquired').map((l) => [l.topic, l.partition]);
    expect(acquired).to.deep.equal([
      ['logged', 0],
      ['logged', 1],
    ]);
    expect(lines.filter((l) => l.msg === 'agent started')).to.have.length(1);
    expect(lines.filter((l) => l.msg === 'agent stopped')).to.have.length(1);
  });
});
