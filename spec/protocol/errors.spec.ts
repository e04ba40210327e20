import { expect } from 'chai';
import { ClientError, ServerError, Status } from 'nice-grpc-common';
import {
  AgentUnavailableError,
  CorruptMessageError,
  ErrorCode,
  NotLeaderError,
  OffsetOutOfRangeError,
  StreamHouseError,
  UnknownError,
  createError,
  fromErrorInfo,
  fromGrpcError,
  isRetriable,
  toErrorInfo,
  toServerError,
} from '../../src/protocol/index.js';

describe('protocol/errors', () => {
  it('gives every error a code, a retriable flag, a cause and a context', () => {
    const cause = new Error('socket closed');
    const error = new NotLeaderError('agent-2 holds orders/3', { cause, context: { topic: 'orders', partition: 3 } });
    expect(error).to.be.instanceOf(StreamHouseError);
    expect(error).to.be.instanceOf(Error);
    expect(error.name).to.equal('NotLeaderError');
    expect(error.code).to.equal('NOT_LEADER');
    expect(error.retriable).to.equal(true);
    expect(error.cause).to.equal(cause);
    expect(error.context).to.deep.equal({ topic: 'orders', partition: 3 });
    expect(new CorruptMessageError('bad crc').retriable).to.equal(false);
  });

  it('builds the subclass for every code in the proto enum', () => {
    for (const name of Object.keys(ErrorCode).filter((k) => Number.isNaN(Number(k)) && k !== 'NONE')) {
      const error = createError(name as never, 'x');
      expect(error.code, name).to.equal(name);
      expect(error.constructor.name, name).to.not.equal('StreamHouseError');
    }
  });

  it('round-trips through a gRPC ServerError and ClientError with the exact code and message', () => {
    const server = toServerError(new OffsetOutOfRangeError('offset 12 is beyond high watermark 10'));
    expect(server.code).to.equal(Status.OUT_OF_RANGE);
    expect(server.details).to.equal('[OFFSET_OUT_OF_RANGE] offset 12 is beyond high watermark 10');
    const client = new ClientError('/streamhouse.v1.StreamHouse/Fetch', server.code, server.details);
    const back = fromGrpcError(client, { topic: 't', partition: 0 });
    expect(back).to.be.instanceOf(OffsetOutOfRangeError);
    expect((back as OffsetOutOfRangeError).message).to.equal('offset 12 is beyond high watermark 10');
    expect((back as OffsetOutOfRangeError).context).to.deep.equal({ topic: 't', partition: 0 });
    expect((back as OffsetOutOfRangeError).cause).to.equal(client);
  });

  it('maps transport failures without details to retriable errors', () => {
    const back = fromGrpcError(new ClientError('/x', Status.UNAVAILABLE, 'No connection established'));
    expect(back).to.be.instanceOf(AgentUnavailableError);
    expect(isRetriable(back)).to.equal(true);
    expect(fromGrpcError(new ClientError('/x', Status.CANCELLED, 'Cancelled on server'))).to.be.instanceOf(
      AgentUnavailableError,
    );
    expect(fromGrpcError(new ClientError('/x', Status.INTERNAL, 'boom'))).to.be.instanceOf(UnknownError);
  });

  it('wraps foreign errors as UNKNOWN and passes ServerErrors through', () => {
    expect(toServerError(new TypeError('nope')).details).to.equal('[UNKNOWN] nope');
    const original = new ServerError(Status.NOT_FOUND, 'gone');
    expect(toServerError(original)).to.equal(original);
    const plain = new RangeError('r');
    expect(fromGrpcError(plain)).to.equal(plain);
  });

  it('converts per-partition ErrorInfo both ways', () => {
    expect(toErrorInfo(new NotLeaderError('moved'))).to.deep.equal({ code: ErrorCode.NOT_LEADER, message: 'moved' });
    expect(toErrorInfo(new Error('plain'))).to.deep.equal({ code: ErrorCode.UNKNOWN, message: 'plain' });
    expect(fromErrorInfo({ code: ErrorCode.NONE, message: '' })).to.equal(undefined);
    expect(fromErrorInfo(undefined)).to.equal(undefined);
    const error = fromErrorInfo({ code: ErrorCode.NOT_LEADER, message: 'moved' }, { topic: 'a', partition: 1 });
    expect(error).to.be.instanceOf(NotLeaderError);
    expect(error?.context).to.deep.equal({ topic: 'a', partition: 1 });
    expect(fromErrorInfo({ code: 9999 as ErrorCode, message: 'future' })).to.be.instanceOf(UnknownError);
  });
});
