/**
 * The ObjectStore conformance suite: the same tests for every backend.
 * A backend's spec calls `objectStoreContract(name, factory)` inside its own
 * setup; the factory gives each test a fresh, empty store.
 */
import { expect } from 'chai';
import { InvalidRequestError, ObjectNotFoundError, type StreamHouseError } from '../../src/protocol/errors.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';

/** A fresh, empty store and how to dispose of it. */
export type ObjectStoreFixture = {
  store: ObjectStore;
  /** Closes the store and removes what it wrote. */
  cleanup(): Promise<void>;
};

/** Makes one fresh, empty store per test. */
export type ObjectStoreFactory = () => Promise<ObjectStoreFixture>;

/** Keys every backend must refuse, with why. */
export const INVALID_KEYS: ReadonlyArray<[string, string]> = [
  ['', 'empty'],
  ['/etc/passwd', 'absolute'],
  ['a\\b', 'backslash'],
  ['../escape', 'leading ..'],
  ['a/../../escape', '.. inside'],
  ['a/./b', '. segment'],
  ['.', 'only .'],
  ['a//b', 'empty segment'],
  ['a/', 'trailing slash'],
  ['a\0b', 'NUL'],
  ['x'.repeat(1025), 'over 1024 bytes'],
];

/** Deterministic bytes: the same seed gives the same content on every run. */
export function patternBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Resolves to the error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail('expected a rejection');
}

export function objectStoreContract(name: string, factory: ObjectStoreFactory): void {
  describe(`ObjectStore contract: ${name}`, function () {
    this.timeout(30_000);
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('returns the exact bytes put', async () => {
      const data = patternBytes(100_003, 1);
      await store.put('topics/t/0/a.seg', data);
      const read = await store.get('topics/t/0/a.seg');
      expect(read.equals(data)).to.equal(true);
      expect(read.length).to.equal(100_003);
    });

    it('writes parts one after the other as one object, empty parts and many of them included', async () => {
      const whole = patternBytes(3 * 1024 * 1024 + 7, 9);
      // Uneven parts, empty ones among them, and more than IOV_MAX (1024) of them.
      const parts: Uint8Array[] = [whole.subarray(0, 10), new Uint8Array(0), whole.subarray(10, 1_000_000)];
      for (let at = 1_000_000; at < whole.length; at += 1500)
        parts.push(whole.subarray(at, Math.min(at + 1500, whole.length)));
      parts.push(new Uint8Array(0));
      expect(parts.length).to.be.greaterThan(1024);
      await store.put('topics/t/0/parts.seg', parts);
      const read = await store.get('topics/t/0/parts.seg');
      expect(read.length).to.equal(whole.length);
      expect(read.equals(whole)).to.equal(true);
      await store.put('one-part', [whole.subarray(5, 25)]);
      expect((await store.get('one-part')).equals(whole.subarray(5, 25))).to.equal(true);
    });

    it('overwrites an object with a shorter one', async () => {
      await store.put('k', patternBytes(5000, 2));
      const second = patternBytes(17, 3);
      await store.put('k', second);
      expect((await store.get('k')).equals(second)).to.equal(true);
      expect((await store.head('k'))?.size).to.equal(17);
    });

    it('reads exact ranges, cut at the end, empty at the very end', async () => {
      const data = patternBytes(10_000, 4);
      await store.put('r', data);
      expect((await store.getRange('r', 0, 10)).equals(data.subarray(0, 10))).to.equal(true);
      expect((await store.getRange('r', 4321, 1000)).equals(data.subarray(4321, 5321))).to.equal(true);
      const tail = await store.getRange('r', 9995, 100);
      expect(tail.length).to.equal(5);
      expect(tail.equals(data.subarray(9995))).to.equal(true);
      expect((await store.getRange('r', 9999, 1)).equals(data.subarray(9999))).to.equal(true);
      expect((await store.getRange('r', 10_000, 10)).length).to.equal(0);
      expect((await store.getRange('r', 5, 0)).length).to.equal(0);
    });

    it('refuses a range starting beyond the end or with bad numbers', async () => {
      await store.put('r', patternBytes(100, 5));
      for (const [start, length] of [
        [101, 1],
        [1_000_000, 10],
        [-1, 5],
        [0, -1],
        [1.5, 2],
        [0, Number.NaN],
      ] as const) {
        const error = await rejection(store.getRange('r', start, length));
        expect(error, `${start},${length}`).to.be.instanceOf(InvalidRequestError);
        expect((error as StreamHouseError).code).to.equal('INVALID_REQUEST');
      }
    });

    it('heads size and modification time; undefined when missing', async () => {
      const before = Date.now();
      await store.put('h/one', patternBytes(1234, 6));
      const info = await store.head('h/one');
      expect(info?.key).to.equal('h/one');
      expect(info?.size).to.equal(1234);
      // S3 keeps whole seconds; allow for that and for clock granularity.
      expect(info!.lastModified).to.be.within(before - 2000, Date.now() + 2000);
      expect(await store.head('h/two')).to.equal(undefined);
      expect(await store.head('h')).to.equal(undefined);
    });

    it('lists by prefix, sorted by key, excluding other prefixes', async () => {
      const keys = [
        'topics/a/1/0.seg',
        'topics/a/0/2.seg',
        'topics/a/0/10.seg',
        'topics/ab/0/0.seg',
        'other/x',
        'topics/a/0/1.seg',
      ];
      for (const [i, key] of keys.entries()) await store.put(key, patternBytes(i + 1, i));
      const under = await store.list('topics/a/');
      expect(under.map((o) => o.key)).to.deep.equal([
        'topics/a/0/1.seg',
        'topics/a/0/10.seg',
        'topics/a/0/2.seg',
        'topics/a/1/0.seg',
      ]);
      expect(under.map((o) => o.size)).to.deep.equal([6, 3, 2, 1]);
      expect((await store.list('topics/a')).map((o) => o.key)).to.deep.equal([
        'topics/a/0/1.seg',
        'topics/a/0/10.seg',
        'topics/a/0/2.seg',
        'topics/a/1/0.seg',
        'topics/ab/0/0.seg',
      ]);
      expect((await store.list('topics/a/0/1')).map((o) => o.key)).to.deep.equal([
        'topics/a/0/1.seg',
        'topics/a/0/10.seg',
      ]);
      expect((await store.list('')).map((o) => o.key)).to.deep.equal([
        'other/x',
        'topics/a/0/1.seg',
        'topics/a/0/10.seg',
        'topics/a/0/2.seg',
        'topics/a/1/0.seg',
        'topics/ab/0/0.seg',
      ]);
      expect(await store.list('nothing/')).to.deep.equal([]);
      expect(await store.list('topics/a/0/1.seg/')).to.deep.equal([]);
    });

    it('sorts listed keys by UTF-8 bytes, as S3 does', async () => {
      // UTF-16 order would put U+1F600 (a surrogate pair) before U+FFFD; UTF-8 order puts it after.
      for (const key of ['u/\u{1F600}', 'u/\uFFFD', 'u/z', 'u/ä']) await store.put(key, Buffer.from(key));
      expect((await store.list('u/')).map((o) => o.key)).to.deep.equal(['u/z', 'u/ä', 'u/\uFFFD', 'u/\u{1F600}']);
      expect((await store.get('u/\u{1F600}')).toString()).to.equal('u/\u{1F600}');
    });

    it('deletes idempotently', async () => {
      await store.put('d/x', patternBytes(10, 7));
      await store.put('d/y', patternBytes(10, 8));
      await store.delete('d/x');
      expect(await store.head('d/x')).to.equal(undefined);
      expect(await rejection(store.get('d/x'))).to.be.instanceOf(ObjectNotFoundError);
      await store.delete('d/x');
      await store.delete('never/was');
      expect((await store.list('d/')).map((o) => o.key)).to.deep.equal(['d/y']);
    });

    it('raises ObjectNotFoundError naming the key for get and getRange of a missing key', async () => {
      for (const read of [() => store.get('missing/key'), () => store.getRange('missing/key', 0, 10)]) {
        const error = await rejection(read());
        expect(error).to.be.instanceOf(ObjectNotFoundError);
        expect((error as StreamHouseError).code).to.equal('OBJECT_NOT_FOUND');
        expect((error as StreamHouseError).context.objectKey).to.equal('missing/key');
      }
    });

    it('refuses invalid keys with InvalidRequestError in every operation', async () => {
      for (const [key, why] of INVALID_KEYS) {
        const operations: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store.put(key, Buffer.from('x'))],
          ['get', () => store.get(key)],
          ['getRange', () => store.getRange(key, 0, 1)],
          ['head', () => store.head(key)],
          ['delete', () => store.delete(key)],
        ];
        for (const [operation, run] of operations) {
          const error = await rejection(run());
          expect(error, `${operation} ${why}`).to.be.instanceOf(InvalidRequestError);
          expect((error as StreamHouseError).code, `${operation} ${why}`).to.equal('INVALID_REQUEST');
        }
      }
      for (const prefix of ['/abs', '../x', 'a/../b', 'a\\b', 'a\0', 'a//b']) {
        expect(await rejection(store.list(prefix)), prefix).to.be.instanceOf(InvalidRequestError);
      }
      expect(await store.list('')).to.deep.equal([]);
    });

    it('stores an empty object', async () => {
      await store.put('empty', new Uint8Array(0));
      expect((await store.get('empty')).length).to.equal(0);
      expect((await store.head('empty'))?.size).to.equal(0);
      expect(await store.list('emp')).to.have.lengthOf(1);
      expect((await store.getRange('empty', 0, 0)).length).to.equal(0);
      expect(await rejection(store.getRange('empty', 1, 1))).to.be.instanceOf(InvalidRequestError);
    });

    it('round-trips a 20 MiB object and ranges across its middle', async function () {
      this.timeout(60_000);
      const data = patternBytes(20 * 1024 * 1024 + 3, 9);
      await store.put('big/object', data);
      expect((await store.head('big/object'))?.size).to.equal(data.length);
      expect((await store.get('big/object')).equals(data)).to.equal(true);
      const middle = 8 * 1024 * 1024 - 100; // across the first 8 MiB part boundary
      expect((await store.getRange('big/object', middle, 200)).equals(data.subarray(middle, middle + 200))).to.equal(
        true,
      );
    });

    it('takes concurrent puts of different keys', async () => {
      const keys = Array.from({ length: 16 }, (_, i) => `c/${String(i).padStart(2, '0')}`);
      await Promise.all(keys.map((key, i) => store.put(key, patternBytes(1000 + i, 100 + i))));
      const listed = await store.list('c/');
      expect(listed.map((o) => o.key)).to.deep.equal(keys);
      for (const [i, key] of keys.entries()) {
        expect((await store.get(key)).equals(patternBytes(1000 + i, 100 + i)), key).to.equal(true);
      }
    });
  });
}
