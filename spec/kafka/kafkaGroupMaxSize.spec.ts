/**
 * The largest group size on the Kafka port: a JoinGroup that would take a group past `--max-group-members` is
 * answered with Kafka's GROUP_MAX_SIZE_REACHED (81); the member already in the group is unaffected.
 */
import { expect } from 'chai';
import { writeJoinGroupRequest } from '../../src/kafka/generated/joinGroupRequest.js';
import { readJoinGroupResponse } from '../../src/kafka/generated/joinGroupResponse.js';
import { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { connectRaw } from './support/rawKafka.js';

const JOIN_GROUP = 11;
/** JoinGroup v2: a new member gets its id in the first answer (no MEMBER_ID_REQUIRED round trip). */
const VERSION = 2;

describe('Kafka listener: JoinGroup past --max-group-members', function () {
  this.timeout(20_000);
  let stores: TestStores;
  let agent: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0, maxGroupMembers: 1 });
  });
  afterEach(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('answers 81 to a second new member of a one-member group, and the first member rejoins', async () => {
    const raw = await connectRaw(agent.agent.kafkaAddress!);
    try {
      const join = async (correlationId: number, memberId: string) => {
        raw.request(JOIN_GROUP, VERSION, correlationId, (w) =>
          writeJoinGroupRequest(w, VERSION, {
            groupId: 'kg',
            sessionTimeoutMs: 10_000,
            rebalanceTimeoutMs: 10_000,
            memberId,
            protocolType: 'consumer',
            protocols: [{ name: 'range', metadata: Buffer.alloc(4) }],
          }),
        );
        return readJoinGroupResponse(new KafkaReader(await raw.response(), 4), VERSION);
      };
      const first = await join(1, '');
      expect([first.errorCode, first.generationId, first.leader]).to.deep.equal([0, 1, first.memberId]);
      const second = await join(2, '');
      // before v7 the protocol name is not nullable: an error answer carries '' (a null broke the frame)
      expect([second.errorCode, second.generationId, second.memberId, second.protocolName]).to.deep.equal([
        81,
        -1,
        '',
        '',
      ]);
      const again = await join(3, first.memberId);
      expect([again.errorCode, again.generationId, again.memberId]).to.deep.equal([0, 2, first.memberId]);
    } finally {
      raw.close();
    }
  });
});
