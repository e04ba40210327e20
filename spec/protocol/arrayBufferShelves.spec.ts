import { expect } from 'chai';
import { ArrayBufferShelves } from '../../src/protocol/arrayBufferShelves.js';

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
});
