/**
 * What the MetadataStore contract suite needs from a backend, and helpers
 * shared by its parts.
 */
import { expect } from 'chai';
import type { StreamHouseError } from '../../../src/protocol/errors.js';
import type { MetadataStore, SegmentInfo } from '../../../src/metadata/metadataStore.js';

/** One backend's data for one test: a temp file, or a unique Redis key prefix. */
export type StoreHarness = {
  /**
   * Opens a store over this harness's data. Every call opens another
   * instance over the same data (the same file, the same key prefix), as a
   * second agent would.
   */
  open(clock: () => number): Promise<MetadataStore>;
  /** Closes every store opened and removes the data (file, keys). */
  cleanup(): Promise<void>;
};

/** Makes a fresh, empty harness (called once per test). */
export type StoreHarnessFactory = () => Promise<StoreHarness>;

/** A clock the test moves by hand. */
export class ManualClock {
  /** Current time, ms. Starts at a fixed instant so expiry values are exact. */
  now = 1_700_000_000_000;
  /** The function handed to stores. */
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Per-test context: the harness, the clock and a first store. */
export type ContractContext = {
  harness: StoreHarness;
  clock: ManualClock;
  store: MetadataStore;
};

/**
 * Registers beforeEach/afterEach that give each test a fresh harness, a
 * clock and a store; returns a getter for the current context.
 */
export function useStore(factory: StoreHarnessFactory): () => ContractContext {
  let context: ContractContext | undefined;
  beforeEach(async () => {
    const harness = await factory();
    const clock = new ManualClock();
    context = { harness, clock, store: await harness.open(clock.read) };
  });
  afterEach(async () => {
    await context?.harness.cleanup();
    context = undefined;
  });
  return () => context!;
}

/** Awaits a rejection of exactly `type` with `code`, and returns the error. */
export async function rejection<E extends StreamHouseError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  code: E['code'],
): Promise<E> {
  let settled: unknown;
  try {
    settled = await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    expect((error as E).code).to.equal(code);
    return error as E;
  }
  return expect.fail(`expected ${type.name} but the call resolved with ${JSON.stringify(settled)}`);
}

/** The object key a partition writer would give a segment. */
export function segmentKey(topic: string, partition: number, baseOffset: number): string {
  return `topics/${topic}/${partition}/${String(baseOffset).padStart(20, '0')}.seg`;
}

/** A segment covering [baseOffset, endOffset) with deterministic sizes and times. */
export function segment(
  topic: string,
  partition: number,
  baseOffset: number,
  endOffset: number,
  createdAt = 1_700_000_000_000,
): SegmentInfo {
  return {
    key: segmentKey(topic, partition, baseOffset),
    baseOffset,
    endOffset,
    sizeBytes: (endOffset - baseOffset) * 100 + 61,
    minTimestamp: 1_600_000_000_000 + baseOffset,
    maxTimestamp: 1_600_000_000_000 + endOffset - 1,
    createdAt,
  };
}

/** Checks that segments are ordered, dense from `from` and end at `to`. */
export function expectDense(segments: SegmentInfo[], from: number, to: number): void {
  let next = from;
  for (const s of segments) {
    expect(s.baseOffset, `segment ${s.key}`).to.equal(next);
    expect(s.endOffset).to.be.greaterThan(s.baseOffset);
    next = s.endOffset;
  }
  expect(next).to.equal(to);
}
