import { expect } from 'chai';
import { asyncScheduler } from 'rxjs';
import {
  DEFAULT_PRODUCER_RETRY,
  resolveProducerOptions,
  type ProducerOptions,
} from '../../../src/client/producer/producerOptions.js';
import { isBatchAware } from '../../../src/client/partitioners/partitioner.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { defaultSerialize } from '../../../src/client/serde/builtins.js';

const base: ProducerOptions = { bootstrap: ['127.0.0.1:9660'] };

describe('client/producer options', () => {
  it('applies the documented defaults (docs/producer.md)', () => {
    const { scheduler, logger, tls, token, partitioner, keySerializer, valueSerializer, ...resolved } =
      resolveProducerOptions(base);
    expect(scheduler).to.equal(asyncScheduler);
    // Strings and bytes as they are, anything else as JSON.
    expect([keySerializer, valueSerializer]).to.deep.equal([defaultSerialize, defaultSerialize]);
    expect(logger).to.equal(undefined);
    expect(tls).to.equal(undefined);
    expect(token).to.equal(undefined);
    // murmur2 of the key, sticky for null keys: the sticky part is batch-aware.
    expect(isBatchAware(partitioner)).to.equal(true);
    expect(resolved).to.deep.equal({
      bootstrap: ['127.0.0.1:9660'],
      clientId: 'streamhouse-producer',
      lingerMs: 5,
      batchBytes: 16 * 1024,
      batchRecords: 10_000,
      compression: 'none',
      acks: 'durable',
      idempotence: true,
      retry: { maxRetries: Infinity, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2, jitter: 0.2 },
      requestTimeoutMs: 30_000,
      deliveryTimeoutMs: 120_000,
      maxInFlightPerPartition: 5,
      maxInFlightRequests: 64,
      maxBufferedBytes: 32 * 1024 * 1024,
      maxBlockMs: 60_000,
      metadataRefreshMs: 30_000,
    });
  });

  it('allows one request in flight per partition by default without idempotence', () => {
    expect(resolveProducerOptions({ ...base, idempotence: false }).maxInFlightPerPartition).to.equal(1);
    expect(resolveProducerOptions({ ...base, idempotence: false, acks: 'none' }).maxInFlightPerPartition).to.equal(1);
  });

  it('takes every option given', () => {
    const resolved = resolveProducerOptions({
      ...base,
      lingerMs: 0,
      batchBytes: 1024,
      batchRecords: 7,
      compression: 'lz4',
      acks: 'buffered',
      requestTimeoutMs: 1,
      deliveryTimeoutMs: 2,
      maxInFlightPerPartition: 3,
      maxInFlightRequests: 4,
      maxBufferedBytes: 2048,
      maxBlockMs: 0,
      metadataRefreshMs: 0,
      retry: { maxRetries: Infinity },
    });
    expect(resolved).to.deep.include({
      lingerMs: 0,
      batchBytes: 1024,
      batchRecords: 7,
      compression: 'lz4',
      acks: 'buffered',
      requestTimeoutMs: 1,
      deliveryTimeoutMs: 2,
      maxInFlightPerPartition: 3,
      maxInFlightRequests: 4,
      maxBufferedBytes: 2048,
      maxBlockMs: 0,
      metadataRefreshMs: 0,
    });
    expect(resolved.retry.maxRetries).to.equal(Infinity);
  });

  const cases: [string, Partial<ProducerOptions>, string][] = [
    ['no agents', { bootstrap: [] }, 'bootstrap must list agents as host:port, got []'],
    ['a negative linger', { lingerMs: -1 }, 'producer option lingerMs must be a non-negative integer, got -1'],
    [
      'a zero delivery timeout',
      { deliveryTimeoutMs: 0 },
      'producer option deliveryTimeoutMs must be a positive integer, got 0',
    ],
    [
      'a fractional request timeout',
      { requestTimeoutMs: 1.5 },
      'producer option requestTimeoutMs must be a positive integer, got 1.5',
    ],
    [
      'no requests in flight',
      { maxInFlightRequests: 0 },
      'producer option maxInFlightRequests must be a positive integer, got 0',
    ],
    ['a negative max block', { maxBlockMs: -1 }, 'producer option maxBlockMs must be a non-negative integer, got -1'],
    [
      'a negative metadata refresh',
      { metadataRefreshMs: -5 },
      'producer option metadataRefreshMs must be a non-negative integer, got -5',
    ],
    [
      'a codec it cannot write',
      { compression: 'brotli' as 'zstd' },
      "compression must be one of none, gzip, snappy, lz4, zstd, got 'brotli'",
    ],
    ['an unknown ack mode', { acks: 'all' as never }, "acks must be 'durable', 'buffered' or 'none', got 'all'"],
    [
      'idempotence with acks none',
      { acks: 'none' },
      "idempotence needs acks 'durable' or 'buffered': set idempotence: false for acks 'none'",
    ],
    [
      'reordering in-flight requests',
      { idempotence: false, maxInFlightPerPartition: 2 },
      'maxInFlightPerPartition > 1 can reorder records on retry without idempotence; enable idempotence or use 1',
    ],
    [
      'a buffer below a batch',
      { maxBufferedBytes: 1000, batchBytes: 2000 },
      'maxBufferedBytes (1000) must be at least batchBytes (2000)',
    ],
    [
      'more in flight than agents recognise retries of',
      { maxInFlightPerPartition: 6 },
      "maxInFlightPerPartition must be at most 5 with idempotence (agents recognise retries of a producer's last 5 " +
        'batches only), got 6',
    ],
    ['a bad retry policy', { retry: { multiplier: 0.5 } }, 'retry multiplier must be a finite number ≥ 1, got 0.5'],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} with InvalidConfigError`, () => {
      expect(() => resolveProducerOptions({ ...base, ...options })).to.throw(InvalidConfigError, message);
    });
  }
});

describe('client/producer/producerOptions: retry', () => {
  const bootstrap = ['127.0.0.1:9660'];

  it("retries until the delivery timeout by default, with Kafka's backoff", () => {
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
