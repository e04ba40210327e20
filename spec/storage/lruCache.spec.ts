import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidConfigError } from '../../src/protocol/errors.js';
import { LruCache } from '../../src/storage/lruCache.js';

function bufferCache(maxBytes: number): LruCache<string, Buffer> {
  return new LruCache<string, Buffer>({ maxBytes, weigh: (value) => value.length });
}

describe('storage/LruCache', () => {
  it('evicts the least recently used entries to stay within the byte budget', () => {
    const cache = bufferCache(100);
    cache.set('a', Buffer.alloc(40));
    cache.set('b', Buffer.alloc(40));
    expect(cache.get('a')?.length).to.equal(40); // a is now the most recent
    cache.set('c', Buffer.alloc(40)); // 120 > 100: b goes
    expect(cache.keys()).to.deep.equal(['a', 'c']);
    expect(cache.bytes).to.equal(80);
    expect(cache.has('b')).to.equal(false);
    expect(cache.stats).to.deep.equal({ hits: 1, misses: 0, evictions: 1 });
  });

  it('evicts as many entries as a heavy value needs, oldest first', () => {
    const cache = bufferCache(100);
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, Buffer.alloc(25));
    cache.set('e', Buffer.alloc(70));
    expect(cache.keys()).to.deep.equal(['d', 'e']);
    expect(cache.bytes).to.equal(95);
    expect(cache.stats.evictions).to.equal(3);
  });

  it('does not store a value heavier than the budget, and drops the old value under its key', () => {
    const cache = bufferCache(100);
    cache.set('a', Buffer.alloc(10));
    cache.set('x', Buffer.alloc(5));
    expect(cache.set('a', Buffer.alloc(101))).to.equal(false);
    expect(cache.has('a')).to.equal(false);
    expect(cache.keys()).to.deep.equal(['x']);
    expect(cache.bytes).to.equal(5);
  });

  it('replaces a value, re-weighing it', () => {
    const cache = bufferCache(100);
    cache.set('a', Buffer.alloc(10));
    cache.set('b', Buffer.alloc(10));
    expect(cache.set('a', Buffer.alloc(60))).to.equal(true);
    expect(cache.bytes).to.equal(70);
    expect(cache.keys()).to.deep.equal(['b', 'a']);
    expect(cache.stats.evictions).to.equal(0);
  });

  it('counts misses, deletes and clears', () => {
    const cache = bufferCache(100);
    expect(cache.get('nope')).to.equal(undefined);
    cache.set('a', Buffer.alloc(1));
    expect(cache.delete('a')).to.equal(true);
    expect(cache.delete('a')).to.equal(false);
    cache.set('b', Buffer.alloc(2));
    cache.clear();
    expect(cache.size).to.equal(0);
    expect(cache.bytes).to.equal(0);
    expect(cache.stats).to.deep.equal({ hits: 0, misses: 1, evictions: 0 });
    cache.resetStats();
    expect(cache.stats).to.deep.equal({ hits: 0, misses: 0, evictions: 0 });
  });

  it('caches nothing with a zero budget, except zero-weight values', () => {
    const cache = bufferCache(0);
    expect(cache.set('a', Buffer.alloc(1))).to.equal(false);
    expect(cache.size).to.equal(0);
    expect(cache.set('empty', Buffer.alloc(0))).to.equal(true);
  });

  it('refuses a bad budget or weight with InvalidConfigError', () => {
    expect(() => bufferCache(-1)).to.throw(InvalidConfigError);
    expect(() => bufferCache(1.5)).to.throw(InvalidConfigError);
    const cache = new LruCache<string, number>({ maxBytes: 10, weigh: (value) => value });
    expect(() => cache.set('nan', Number.NaN)).to.throw(InvalidConfigError);
    expect(() => cache.set('neg', -1)).to.throw(InvalidConfigError);
  });

  it('behaves like a reference model under random operations', () => {
    type Op =
      | { kind: 'set'; key: number; weight: number }
      | { kind: 'get'; key: number }
      | { kind: 'delete'; key: number };
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 9 }),
        weight: fc.integer({ min: 0, max: 60 }),
      }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const cache = new LruCache<number, number>({ maxBytes: 100, weigh: (w) => w });
        let model: Array<[number, number]> = []; // [key, weight], least recent first
        for (const o of ops) {
          if (o.kind === 'set') {
            model = model.filter(([k]) => k !== o.key);
            if (o.weight <= 100) {
              model.push([o.key, o.weight]);
              while (model.reduce((s, [, w]) => s + w, 0) > 100) model.shift();
            }
            cache.set(o.key, o.weight);
          } else if (o.kind === 'get') {
            const at = model.findIndex(([k]) => k === o.key);
            const expected = at < 0 ? undefined : model[at]![1];
            if (at >= 0) model.push(...model.splice(at, 1));
            expect(cache.get(o.key)).to.equal(expected);
          } else {
            model = model.filter(([k]) => k !== o.key);
            cache.delete(o.key);
          }
          expect(cache.keys()).to.deep.equal(model.map(([k]) => k));
          expect(cache.bytes).to.equal(model.reduce((s, [, w]) => s + w, 0));
        }
      }),
      { seed: 20240601, numRuns: 200 },
    );
  });
});
