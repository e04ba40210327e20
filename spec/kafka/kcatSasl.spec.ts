/**
 * kcat (librdkafka) over SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512: produce and consume with the right password, a failure with
 * a wrong one or none. Skipped, saying so, when kcat is missing.
 */
import { expect } from 'chai';
import { scramCredential } from '../../src/auth/credentials.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { hasKcat, kcat } from './support/kcat.js';

const sasl = (mechanism: string, password: string) => [
  '-X',
  'security.protocol=SASL_PLAINTEXT',
  '-X',
  `sasl.mechanisms=${mechanism}`,
  '-X',
  'sasl.username=carol',
  '-X',
  `sasl.password=${password}`,
];

describe('Kafka listener SASL with kcat', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let broker: string;

  before(async function () {
    if (!hasKcat()) {
      console.warn('    kcat is not installed (apt-get install kcat): skipping the kcat SASL specs');
      this.skip();
    }
    stores = await createTestStores('sqlite');
    const password = 'carol pass';
    const scram = {
      'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', password),
      'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', password),
    };
    agent = await startTestAgent(stores, {
      kafkaPort: 0,
      auth: { mode: 'required', users: [{ name: 'carol', scram, createdAt: 1 }] },
    });
    broker = agent.agent.kafkaAddress!;
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  for (const [i, mechanism] of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].entries()) {
    it(`produces and consumes over SASL ${mechanism}; a wrong password fails`, async () => {
      const topic = `kcat-sasl-${i}`;
      const auth = sasl(mechanism, 'carol pass');
      await agent.metadataStore.createTopic(topic, 1);
      await kcat(['-b', broker, ...auth, '-P', '-t', topic, '-p', '0', '-K:'], 'k1:hello\nk2:world\n');
      const out = await kcat(['-b', broker, ...auth, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%k:%s\n']);
      expect(out).to.equal('k1:hello\nk2:world\n');
      const failure = await kcat(['-b', broker, ...sasl(mechanism, 'wrong'), '-L', '-m', '3']).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(failure).to.match(/SASL authentication error/);
    });
  }

  it('fails kcat without SASL: nothing is served before authentication', async () => {
    const failure = await kcat(['-b', broker, '-L', '-m', '2']).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(failure).to.match(/Failed to acquire metadata/);
  });
});
