import { expect } from 'chai';
import { ArrayBufferShelves } from '../../../src/protocol/buffers/arrayBufferShelves.js';

describe('protocol/ArrayBufferShelves', () => {
  it('hands out ArrayBuffers of the asked length, the last one given back first', () => {
    const shelves = new ArrayBufferShelves(1 << 20);
    const [a, b] = [shelves.take(1000), shelves.take(1000)];
    expect([a.byteLength, b.byteLength]).to.deep.equal([1000, 1000]);
    expect(a).to.not.equal(b);
    expect([shelves.give(a), shelves.give(b)]).to.deep.equal([true, true]);
    expect(shelves.heldBytes).to.equal(2000);
    expect(shelves.take(1000)).to.equal(b);
    expect(shelves.take(2000)).to.not.equal(a); // another length: a new one
    expect(shelves.take(1000)).to.equal(a);
    expect(shelves.heldBytes).to.equal(0);
  });

  it('takes back only what it handed out, once', () => {
    const shelves = new ArrayBufferShelves(1 << 20);
    expect(shelves.give(new ArrayBuffer(1000))).to.equal(false);
    const a = shelves.take(1000);
    expect(shelves.give(a)).to.equal(true);
    expect(shelves.give(a)).to.equal(false);
    expect(shelves.heldBytes).to.equal(1000);
    expect(shelves.take(1000)).to.equal(a);
    expect(shelves.take(1000)).to.not.equal(a); // it was kept once, so it goes out once
  });

  it('keeps no more than its bound free; a buffer beyond it is dropped and not taken back later', () => {
    const shelves = new ArrayBufferShelves(2500);
    const [a, b, c] = [shelves.take(1000), shelves.take(1000), shelves.take(1000)];
    expect([shelves.give(a), shelves.give(b), shelves.give(c)]).to.deep.equal([true, true, false]);
    expect(shelves.heldBytes).to.equal(2000);
    expect(shelves.give(c)).to.equal(false);
    shelves.take(1000);
    expect(shelves.give(c)).to.equal(false); // dropped means no longer lent
    expect(shelves.heldBytes).to.equal(1000);
  });

  it('makes room for a length in demand by dropping free buffers of other lengths, longest unasked first', () => {
    const shelves = new ArrayBufferShelves(4000);
    const [old1, old2, mid, fresh1, fresh2] = [
      shelves.take(1000),
      shelves.take(1000),
      shelves.take(1500),
      shelves.take(1200),
      shelves.take(1200),
    ];
    for (const buffer of [old1, old2, mid]) shelves.give(buffer); // 3500 free: 1000 x 2, 1500
    expect(shelves.give(fresh1)).to.equal(true); // needs 700 more room: drops one 1000 (the longest unasked)
    expect(shelves.heldBytes).to.equal(3700);
    expect(shelves.give(fresh2)).to.equal(true); // needs 900: drops the other 1000
    expect(shelves.heldBytes).to.equal(3900);
    expect(shelves.take(1000)).to.not.equal(old1);
    expect(shelves.take(1500)).to.equal(mid);
    expect([shelves.take(1200), shelves.take(1200)]).to.deep.equal([fresh2, fresh1]);
    const big = shelves.take(5000);
    // larger than the bound: nothing could make room, nothing is dropped for it
    expect(shelves.give(big)).to.equal(false);
  });

  it('puts a length whose shelf was emptied by takes behind those left unasked', () => {
    const shelves = new ArrayBufferShelves(3000);
    const [a, b, c] = [shelves.take(1000), shelves.take(1000), shelves.take(1000)];
    shelves.give(a); // length 1000 shelved first
    const other = shelves.take(500);
    shelves.give(other); // then 500
    expect(shelves.take(1000)).to.equal(a); // 1000 asked for again: its emptied shelf goes
    shelves.give(a); // 1000 now after 500
    shelves.give(b); // 2500 free
    expect(shelves.give(c)).to.equal(true); // needs 500: drops the 500, not a 1000
    expect(shelves.heldBytes).to.equal(3000);
    expect(shelves.take(500)).to.not.equal(other);
  });
});
