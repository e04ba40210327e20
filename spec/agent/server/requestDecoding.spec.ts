import { expect } from 'chai';
import protobuf from 'protobufjs/minimal.js';
import Long from 'long';
import { decodeOrRefuse, UndecodableRequest } from '../../../src/protocol/grpc/requestDecoding.js';
import { FetchRequest, ProduceRequest } from '../../../src/protocol/generated/streamhouse.js';
import { InvalidRequestError, UnsafeIntegerError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { callRaw } from '../../support/rawGrpc.js';

/** A ProduceRequest whose producer_id (field 2) is `value`, an int64 given as a decimal string. */
function produceWithProducerId(value: string): Uint8Array {
  return protobuf.Writer.create().uint32(16).int64(Long.fromString(value)).finish();
}

/** A FetchRequest with one partition of topic `t` at offset `value` (int64, decimal string). */
function fetchAtOffset(value: string): Uint8Array {
  const partition = protobuf.Writer.create().uint32(10).string('t').uint32(24).int64(Long.fromString(value)).finish();
  return protobuf.Writer.create().uint32(10).bytes(partition).uint32(16).uint32(0).finish();
}

describe('agent: requests that do not decode', () => {
  describe('decodeOrRefuse', () => {
    const decode = decodeOrRefuse('Produce request', (bytes) => ProduceRequest.decode(bytes));

    it('decodes a valid message as the generated decoder does', () => {
      const bytes = ProduceRequest.encode(ProduceRequest.fromPartial({ producerId: 2 ** 53 - 1, acks: 2 })).finish();
      expect(decode(bytes)).to.deep.equal(ProduceRequest.decode(bytes));
    });

    it('refuses an int64 beyond ±(2^53 - 1) with UnsafeIntegerError', () => {
      for (const value of ['9007199254740992', '1152921504606846976', '-9007199254740992', '-1152921504606846976']) {
        const refused = decode(produceWithProducerId(value));
        expect(refused).to.be.instanceOf(UndecodableRequest);
        const { error } = refused as UndecodableRequest;
        expect(error).to.be.instanceOf(UnsafeIntegerError);
        expect(error.message).to.equal(
          'Produce request carries an int64 beyond Number.MAX_SAFE_INTEGER (2^53 - 1): offsets, ids and timestamps ' +
            'must be safe integers',
        );
      }
    });

    it('refuses truncated bytes and bad wire types with InvalidRequestError', () => {
      const truncated = decode(Uint8Array.from([0x22, 0x7f, 0x0a]));
      expect((truncated as UndecodableRequest).error).to.be.instanceOf(InvalidRequestError);
      expect((truncated as UndecodableRequest).error.message).to.match(
        /^Produce request of 3 bytes is not a valid protobuf message: index out of range/,
      );
      const badWireType = decode(Uint8Array.from([0x0f, 0x01]));
      expect((badWireType as UndecodableRequest).error).to.be.instanceOf(InvalidRequestError);
      expect((badWireType as UndecodableRequest).error.message).to.equal(
        'Produce request of 2 bytes is not a valid protobuf message: invalid wire type 7 at offset 1',
      );
    });
  });

  describe('against a real agent', function () {
    this.timeout(20_000);
    let stores: TestStores;
    let agent: TestAgent;

    beforeEach(async () => {
      stores = await createTestStores('sqlite');
      agent = await startTestAgent(stores);
      await agent.connection.client.createTopic({ name: 't', partitions: 1 });
    });
    afterEach(async () => {
      await agent.stop();
      await stores.cleanup();
    });

    it('answers an int64 of 2^60 with UNSAFE_INTEGER and keeps serving', async () => {
      const produced = await rejection(
        callRaw(agent.agent.address, 'Produce', produceWithProducerId('1152921504606846976')),
      );
      expect(produced).to.be.instanceOf(UnsafeIntegerError);
      expect((produced as Error).message).to.equal(
        'Produce request carries an int64 beyond Number.MAX_SAFE_INTEGER (2^53 - 1): offsets, ids and timestamps ' +
          'must be safe integers',
      );
      const fetched = await rejection(callRaw(agent.agent.address, 'Fetch', fetchAtOffset('-1152921504606846976')));
      expect(fetched).to.be.instanceOf(UnsafeIntegerError);
      expect((fetched as Error).message).to.match(/^Fetch request carries an int64 beyond/);
      expect(await produce(agent.connection, 't', 0, records(2))).to.equal(0);
      expect(await readAll(agent.connection, 't', 0)).to.deep.equal(expected(0, 2));
    });

    it('answers malformed protobuf with INVALID_REQUEST, writes nothing, and keeps serving', async () => {
      const garbage = [
        Uint8Array.from([0x22, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        Uint8Array.from([0x0f, 0x01]),
        Uint8Array.from([0x22, 0x05, 0x0a]),
      ];
      for (const body of garbage) {
        const error = await rejection(callRaw(agent.agent.address, 'Produce', body));
        expect(error).to.be.instanceOf(InvalidRequestError);
        expect((error as Error).message).to.match(
          new RegExp(`^Produce request of ${body.length} bytes is not a valid protobuf message: `),
        );
      }
      const commit = await rejection(
        callRaw(agent.agent.address, 'CommitOffsets', Uint8Array.from([0x22, 0x05, 0x0a])),
      );
      expect(commit).to.be.instanceOf(InvalidRequestError);
      expect((commit as Error).message).to.match(/^CommitOffsets request of 3 bytes is not a valid protobuf message: /);
      expect(await readAll(agent.connection, 't', 0)).to.deep.equal([]);
      expect(await produce(agent.connection, 't', 0, records(3))).to.equal(0);
      const fetch = FetchRequest.encode(
        FetchRequest.fromPartial({ partitions: [{ topic: 't', partition: 0, offset: 0 }] }),
      ).finish();
      expect((await callRaw(agent.agent.address, 'Fetch', fetch)).length).to.be.greaterThan(0);
    });
  });
});
