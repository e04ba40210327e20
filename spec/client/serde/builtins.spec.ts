import { expect } from 'chai';
import fc from 'fast-check';
import { defaultSerialize, deserializers, serializers } from '../../../src/client/serde/builtins.js';

const NO_HEADERS = [] as const;

describe('client/serde: built-in serialisers and deserialisers', () => {
  it('string round-trips any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = serializers.string(text, 't');
        expect(Buffer.from(bytes).equals(Buffer.from(text, 'utf8'))).to.equal(true);
        expect(deserializers.string(bytes, 't', NO_HEADERS)).to.equal(text);
      }),
    );
  });

  it('json round-trips any JSON value (numbers, strings, nested objects and arrays)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = serializers.json<unknown>()(value, 't');
        // JSON has no -0: it comes back as 0, as JSON.parse(JSON.stringify(-0)) does.
        expect(deserializers.json<unknown>()(bytes, 't', NO_HEADERS)).to.deep.equal(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('the default serialiser sends strings and bytes as they are and anything else as JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = defaultSerialize(value);
        const expected = typeof value === 'string' ? value : JSON.stringify(value);
        expect(Buffer.from(bytes).toString('utf8')).to.equal(expected);
      }),
    );
    const raw = Uint8Array.of(0, 255, 7);
    expect(defaultSerialize(raw)).to.equal(raw);
  });

  it('bytes are passed as they are, both ways (no copy)', () => {
    const raw = Uint8Array.of(1, 2, 3);
    expect(serializers.bytes(raw, 't')).to.equal(raw);
    expect(deserializers.bytes(raw, 't', NO_HEADERS)).to.equal(raw);
  });

  const badSerialize: [string, () => unknown, string][] = [
    ['a number to string', () => serializers.string(42 as unknown as string, 't'), 'expected a string, got number'],
    [
      'a string to bytes',
      () => serializers.bytes('x' as unknown as Uint8Array, 't'),
      'expected a Uint8Array, got string',
    ],
    ['undefined to json', () => serializers.json()(undefined, 't'), 'undefined has no JSON form'],
    ['a function to json', () => serializers.json()(() => 1, 't'), 'function has no JSON form'],
    ['a symbol by default', () => defaultSerialize(Symbol('s')), 'symbol has no JSON form'],
    ['a BigInt to json', () => serializers.json()(1n, 't'), 'Do not know how to serialize a BigInt'],
  ];
  for (const [what, run, message] of badSerialize) {
    it(`refuses ${what} with a TypeError`, () => {
      expect(run).to.throw(TypeError, message);
    });
  }

  it('string and json refuse bytes that are not well-formed UTF-8; json refuses text that is not JSON', () => {
    const broken = Uint8Array.of(0x7b, 0xff, 0x7d);
    expect(() => deserializers.string(broken, 't', NO_HEADERS)).to.throw(TypeError, 'The encoded data was not valid');
    expect(() => deserializers.json()(broken, 't', NO_HEADERS)).to.throw(TypeError, 'The encoded data was not valid');
    expect(() => deserializers.json()(Buffer.from('{"a":'), 't', NO_HEADERS)).to.throw(SyntaxError);
  });
});
