import { expect } from 'chai';
import { DEFAULT_PRODUCER_RETRY, resolveProducerOptions } from '../../../src/client/producer/producerOptions.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

describe('client/producer/producerOptions: retry', () => {
  const bootstrap = ['127.0.0.1:9660'];

  it('retries until the delivery timeout by default, with Kafka\'s backoff', () => {
    expect(resolveProducerOptions({ bootstrap }).retry).to.deep.equal({
      maxRetries: Infinity,
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      multiplier: 2,
      jitter: 0.2,
    });
    expect(DEFAULT_PRODUCER_RETRY).to.deep.equal(resolveProducerOptions({ bootstrap }).retry);
    expect(resolveProducerOptions({ bootstrap }).deliveryTimeoutMs).to.equal(120_000);
  });

  it('keeps what is given and fills in the rest', () => {
    expect(resolveProducerOptions({ bootstrap, retry: { maxRetries: 3, maxBackoffMs: 500 } }).retry).to.deep.equal({
      maxRetries: 3,
      initialBackoffMs: 100,
      maxBackoffMs: 500,
      multiplier: 2,
      jitter: 0.2,
    });
    expect(resolveProducerOptions({ bootstrap, retry: { maxRetries: undefined } }).retry.maxRetries).to.equal(Infinity);
  });

  it('says which retry field to fix', () => {
    expect(() => resolveProducerOptions({ bootstrap, retry: { maxRetries: -1 } })).to.throw(
      InvalidConfigError,
      'retry maxRetries must be a non-negative integer or Infinity, got -1',
    );
    expect(() => resolveProducerOptions({ bootstrap, retry: { maxBackoffMs: 10 } })).to.throw(
      InvalidConfigError,
      'retry maxBackoffMs must be finite and ≥ initialBackoffMs (100), got 10',
    );
  });
});
