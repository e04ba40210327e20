import { expect } from 'chai';
import {
  DEFAULT_RESET_STRATEGY,
  isCommittedInRange,
  resolveStartOffset,
  type ResetStrategy,
} from '../../../src/client/offsets/index.js';
import { InvalidRequestError, OffsetOutOfRangeError } from '../../../src/protocol/errors.js';

const log = { logStartOffset: 100, highWatermark: 200 };
const strategies: ResetStrategy[] = [
  { type: 'earliest' },
  { type: 'latest' },
  { type: 'offset', offset: 120 },
  { type: 'timestamp', timestamp: 1_700_000_000_000 },
  { type: 'none' },
];

describe('client/offsets/resolveStartOffset', () => {
  it('uses an in-range committed offset whatever the strategy, bounds included', () => {
    for (const strategy of strategies) {
      for (const committed of [100, 150, 200]) {
        expect(resolveStartOffset({ ...log, committed, strategy, offsetForTimestamp: 170 })).to.deep.equal({
          offset: committed,
          source: 'committed',
        });
      }
    }
  });

  for (const [label, committed] of [
    ['nothing committed', undefined],
    ['nothing committed (-1)', -1],
    ['committed below the log start', 50],
    ['committed beyond the high watermark', 250],
  ] as const) {
    it(`applies the strategy with ${label}`, () => {
      const input = { ...log, committed };
      expect(resolveStartOffset({ ...input, strategy: { type: 'earliest' } })).to.deep.equal({
        offset: 100,
        source: 'earliest',
      });
      expect(resolveStartOffset({ ...input, strategy: { type: 'latest' } })).to.deep.equal({
        offset: 200,
        source: 'latest',
      });
      expect(resolveStartOffset({ ...input, strategy: { type: 'offset', offset: 120 } })).to.deep.equal({
        offset: 120,
        source: 'offset',
      });
      expect(
        resolveStartOffset({ ...input, strategy: { type: 'timestamp', timestamp: 5 }, offsetForTimestamp: 170 }),
      ).to.deep.equal({ offset: 170, source: 'timestamp' });
    });
  }

  it('clamps a fixed offset into the log', () => {
    expect(resolveStartOffset({ ...log, strategy: { type: 'offset', offset: 0 } })).to.deep.equal({
      offset: 100,
      source: 'offset',
    });
    expect(resolveStartOffset({ ...log, strategy: { type: 'offset', offset: 999 } })).to.deep.equal({
      offset: 200,
      source: 'offset',
    });
    expect(resolveStartOffset({ ...log, strategy: { type: 'offset', offset: 200 } })).to.deep.equal({
      offset: 200,
      source: 'offset',
    });
  });

  it('starts a timestamp reset at the high watermark when every record is older, and clamps stale lookups', () => {
    const strategy: ResetStrategy = { type: 'timestamp', timestamp: 9e12 };
    expect(resolveStartOffset({ ...log, strategy, offsetForTimestamp: -1 })).to.deep.equal({
      offset: 200,
      source: 'timestamp',
    });
    // Retention moved the log start after the lookup.
    expect(resolveStartOffset({ ...log, strategy, offsetForTimestamp: 90 })).to.deep.equal({
      offset: 100,
      source: 'timestamp',
    });
  });

  it('refuses a timestamp reset without the looked-up offset', () => {
    expect(() => resolveStartOffset({ ...log, strategy: { type: 'timestamp', timestamp: 1 } })).to.throw(
      InvalidRequestError,
      'needs offsetForTimestamp',
    );
  });

  it('throws OffsetOutOfRangeError for none, with context', () => {
    let thrown: unknown;
    try {
      resolveStartOffset({ ...log, committed: 250, strategy: { type: 'none' }, topic: 'orders', partition: 3 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(OffsetOutOfRangeError);
    const error = thrown as OffsetOutOfRangeError;
    expect(error.code).to.equal('OFFSET_OUT_OF_RANGE');
    expect(error.message).to.equal('committed offset 250 is outside [100, 200] and the reset strategy is none');
    expect(error.context).to.deep.equal({ topic: 'orders', partition: 3, offset: 250 });
    expect(() => resolveStartOffset({ ...log, strategy: { type: 'none' } })).to.throw(
      OffsetOutOfRangeError,
      'no committed offset and the reset strategy is none',
    );
  });

  it('works on an empty log (log start = high watermark = 0)', () => {
    const empty = { logStartOffset: 0, highWatermark: 0 };
    expect(resolveStartOffset({ ...empty, committed: 0, strategy: { type: 'none' } })).to.deep.equal({
      offset: 0,
      source: 'committed',
    });
    expect(resolveStartOffset({ ...empty, strategy: { type: 'earliest' } })).to.deep.equal({
      offset: 0,
      source: 'earliest',
    });
    expect(resolveStartOffset({ ...empty, committed: 7, strategy: { type: 'latest' } })).to.deep.equal({
      offset: 0,
      source: 'latest',
    });
  });

  it('refuses inconsistent input', () => {
    const latest: ResetStrategy = { type: 'latest' };
    expect(() => resolveStartOffset({ logStartOffset: 300, highWatermark: 200, strategy: latest })).to.throw(
      InvalidRequestError,
      'logStartOffset 300 is above highWatermark 200',
    );
    expect(() => resolveStartOffset({ ...log, committed: -5, strategy: latest })).to.throw(
      InvalidRequestError,
      'committed offset',
    );
    expect(() => resolveStartOffset({ ...log, highWatermark: 2 ** 53, strategy: latest })).to.throw(
      InvalidRequestError,
      'highWatermark',
    );
    expect(() => resolveStartOffset({ ...log, strategy: { type: 'offset', offset: -1 } })).to.throw(
      InvalidRequestError,
      'reset offset',
    );
  });

  it('says whether a committed offset is usable, and defaults to latest', () => {
    expect(isCommittedInRange({ ...log, committed: 100 })).to.equal(true);
    expect(isCommittedInRange({ ...log, committed: 99 })).to.equal(false);
    expect(isCommittedInRange({ ...log, committed: 201 })).to.equal(false);
    expect(isCommittedInRange({ ...log, committed: -1 })).to.equal(false);
    expect(isCommittedInRange({ ...log })).to.equal(false);
    expect(DEFAULT_RESET_STRATEGY).to.deep.equal({ type: 'latest' });
  });
});
