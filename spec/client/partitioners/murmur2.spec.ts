import { expect } from 'chai';
import fc from 'fast-check';
import { murmur2, murmur2String, toPositive } from '../../../src/client/partitioners/murmur2.js';

/**
 * A second, deliberately different implementation: Java `int` arithmetic
 * simulated with BigInt (asIntN for wrapping, explicit unsigned shifts), to
 * check the Math.imul version on inputs Kafka's vectors do not cover.
 */
function referenceMurmur2(data: Uint8Array): number {
  const int = (x: bigint): bigint => BigInt.asIntN(32, x);
  const ushr = (x: bigint, n: bigint): bigint => BigInt.asUintN(32, x) >> n;
  const m = int(0x5bd1e995n);
  let h = int(int(0x9747b28cn) ^ BigInt(data.length));
  const words = Math.floor(data.length / 4);
  for (let i = 0; i < words; i++) {
    let k = 0n;
    for (let b = 3; b >= 0; b--) k = (k << 8n) | BigInt(data[i * 4 + b]!);
    k = int(k);
    k = int(k * m);
    k = int(k ^ ushr(k, 24n));
    k = int(k * m);
    h = int(h * m);
    h = int(h ^ k);
  }
  const base = words * 4;
  const rest = data.length % 4;
  if (rest >= 3) h = int(h ^ (BigInt(data[base + 2]!) << 16n));
  if (rest >= 2) h = int(h ^ (BigInt(data[base + 1]!) << 8n));
  if (rest >= 1) {
    h = int(h ^ BigInt(data[base]!));
    h = int(h * m);
  }
  h = int(h ^ ushr(h, 13n));
  h = int(h * m);
  h = int(h ^ ushr(h, 15n));
  return Number(h);
}

describe('client/partitioners/murmur2', () => {
  it("matches the vectors of Kafka's UtilsTest", () => {
    expect(murmur2String('21')).to.equal(-973932308);
    expect(murmur2String('foobar')).to.equal(-790332482);
    expect(murmur2String('a-little-bit-long-string')).to.equal(-985981536);
    expect(murmur2String('a-little-bit-longer-string')).to.equal(-1486304829);
    expect(murmur2String('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).to.equal(-58897971);
    expect(murmur2String('abc')).to.equal(479470107);
  });

  it('agrees with the BigInt reference on the same vectors (the reference itself is right)', () => {
    const encode = (s: string) => new TextEncoder().encode(s);
    expect(referenceMurmur2(encode('21'))).to.equal(-973932308);
    expect(referenceMurmur2(encode('abc'))).to.equal(479470107);
    expect(referenceMurmur2(encode('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).to.equal(-58897971);
  });

  it('covers every tail length (0–3 trailing bytes) and bytes ≥ 0x80', () => {
    const cases = [
      new Uint8Array([]),
      new Uint8Array([0x61]),
      new Uint8Array([0xff, 0x80, 0x7f, 0x00, 0xfe]),
      new Uint8Array([0x80, 0x81, 0x82, 0x83, 0x84, 0x85]),
      new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f]),
    ];
    for (const bytes of cases) expect(murmur2(bytes), `${bytes.join(',')}`).to.equal(referenceMurmur2(bytes));
    expect(murmur2(new Uint8Array([]))).to.equal(275646681);
  });

  it('agrees with the reference on random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => murmur2(bytes) === referenceMurmur2(bytes)),
      { numRuns: 500 },
    );
  });

  it('hashes the UTF-8 bytes of a string', () => {
    expect(murmur2String('é€')).to.equal(murmur2(new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac])));
  });

  it('toPositive clears the sign bit like Kafka (not Math.abs)', () => {
    expect(toPositive(-973932308)).to.equal(1173551340);
    expect(toPositive(-1)).to.equal(0x7fffffff);
    expect(toPositive(-2147483648)).to.equal(0);
    expect(toPositive(479470107)).to.equal(479470107);
  });
});
