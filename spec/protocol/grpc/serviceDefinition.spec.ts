import { expect } from 'chai';
import { ProduceRequest, StreamHouseDefinition } from '../../../src/protocol/generated/streamhouse.js';
import { StreamHouseService, withoutCopy } from '../../../src/protocol/grpc/serviceDefinition.js';

/** What nice-grpc does with a request: `Buffer.from(encode(fromPartial(value)).finish())`. */
function serializeAsNiceGrpc(value: Parameters<typeof ProduceRequest.fromPartial>[0]): Buffer {
  const type = StreamHouseService.methods.produce.requestType;
  return Buffer.from(type.encode(type.fromPartial(value)).finish());
}

describe('protocol/serviceDefinition', () => {
  it('hands a large message to Buffer.from as its ArrayBuffer, so no copy is made', () => {
    const batch = Buffer.alloc(1 << 20, 7);
    const request = {
      acks: 1,
      producerId: 5,
      producerEpoch: 0,
      timeoutMs: 1000,
      partitions: [{ topic: 'orders', partition: 3, batch }],
    };
    const encoded = StreamHouseService.methods.produce.requestType.encode(ProduceRequest.fromPartial(request)).finish();
    expect(encoded).to.be.instanceOf(ArrayBuffer);
    const message = Buffer.from(encoded);
    expect(message.buffer).to.equal(encoded); // a view of the encoder's memory, not a copy
    expect(message).to.deep.equal(Buffer.from(ProduceRequest.encode(ProduceRequest.fromPartial(request)).finish()));
    const decoded = ProduceRequest.decode(message);
    expect(decoded.partitions[0]!.batch.length).to.equal(1 << 20);
    expect(decoded.partitions[0]!.batch[1234]).to.equal(7);
    expect({ ...decoded, partitions: [] }).to.deep.equal({
      acks: 1,
      producerId: 5,
      producerEpoch: 0,
      timeoutMs: 1000,
      partitions: [],
      padding: Buffer.alloc(0),
    });
  });

  it('returns a small message as it is (it shares a pooled buffer)', () => {
    const type = StreamHouseService.methods.produce.requestType;
    const value = { acks: 1, partitions: [{ topic: 't', partition: 0, batch: Buffer.from([1, 2, 3]) }] };
    const encoded = type.encode(type.fromPartial(value)).finish();
    expect(encoded).to.be.instanceOf(Uint8Array);
    expect(encoded).not.to.be.instanceOf(ArrayBuffer);
    const message = serializeAsNiceGrpc(value);
    expect(ProduceRequest.decode(message).partitions[0]!.batch).to.deep.equal(Buffer.from([1, 2, 3]));
  });

  it('withoutCopy keeps bytes that do not fill their ArrayBuffer', () => {
    const whole = new Uint8Array(8);
    expect(withoutCopy(whole)).to.equal(whole.buffer);
    const part = whole.subarray(2, 6);
    expect(withoutCopy(part)).to.equal(part);
    const tail = whole.subarray(0, 4);
    expect(withoutCopy(tail)).to.equal(tail);
  });

  it('keeps every method of the generated definition, with the same paths and decoders', () => {
    expect(Object.keys(StreamHouseService.methods)).to.deep.equal(Object.keys(StreamHouseDefinition.methods));
    expect(StreamHouseService.fullName).to.equal('streamhouse.v1.StreamHouse');
    expect(StreamHouseService.methods.fetch.name).to.equal('Fetch');
    expect(StreamHouseService.methods.fetch.responseType.decode).to.equal(
      StreamHouseDefinition.methods.fetch.responseType.decode,
    );
  });
});
