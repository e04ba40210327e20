/**
 * ACLs kept in a shared Redis store: every agent over it enforces the same
 * rules, and picks a change up by itself within its refresh period.
 */
import { expect } from 'chai';
import type { AclEntry } from '../../../src/metadata/aclRules.js';
import { TopicAuthorizationFailedError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  produce,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { waitFor } from '../../support/waitFor.js';

const anonymousProduce: AclEntry = {
  principal: 'ANONYMOUS',
  permission: 'allow',
  operation: 'produce',
  resourceType: 'topic',
  patternType: 'literal',
  resourceName: 'shared',
};

describe('ACLs shared by agents over Redis', function () {
  this.timeout(30_000);
  let stores: TestStores;
  const agents: TestAgent[] = [];

  beforeEach(async () => {
    stores = await createTestStores('redis');
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop();
    await stores.cleanup();
  });

  it('enforces the same ACLs on every agent, each seeing a change within its refresh period', async () => {
    const admin = stores.newMetadataStore();
    await admin.createTopic('shared', 2);
    for (let i = 0; i < 2; i++) agents.push(await startTestAgent(stores, { authorizer: { refreshMs: 50 } }));
    for (const [i, agent] of agents.entries()) {
      expect(await rejection(produce(agent.connection, 'shared', i, records(1)))).to.be.instanceOf(
        TopicAuthorizationFailedError,
      );
    }
    await admin.addAcl(anonymousProduce);
    // No call to refreshAcls: the agents' own refresh picks the entry up. ListOffsets needs describe, which produce
    // implies, and writes nothing while the test polls.
    const allowed = async (agent: TestAgent, partition: number) => {
      const { results } = await agent.connection.client.listOffsets({
        partitions: [{ topic: 'shared', partition, spec: 0 }],
      });
      return results[0]!.error === undefined;
    };
    for (const [i, agent] of agents.entries()) await waitFor(() => allowed(agent, i), `agent ${i} to allow`, 5000);
    for (const [i, agent] of agents.entries())
      expect(await produce(agent.connection, 'shared', i, records(1))).to.equal(0);
    await admin.removeAcl(anonymousProduce);
    for (const [i, agent] of agents.entries())
      await waitFor(async () => !(await allowed(agent, i)), `agent ${i} to deny again`, 5000);
    for (const [i, agent] of agents.entries()) {
      expect(await rejection(produce(agent.connection, 'shared', i, records(1)))).to.be.instanceOf(
        TopicAuthorizationFailedError,
      );
    }
    expect((await admin.getPartition('shared', 0)).highWatermark).to.equal(1);
    expect((await admin.getPartition('shared', 1)).highWatermark).to.equal(1);
  });
});
