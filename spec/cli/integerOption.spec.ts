import { expect } from 'chai';
import { InvalidArgumentError } from 'commander';
import { integerOption, parseIntegerOption } from '../../src/cli/integerOption.js';

describe('cli/integerOption', () => {
  it('accepts decimal integers within the range', () => {
    expect(parseIntegerOption('--n', '0')).to.equal(0);
    expect(parseIntegerOption('--n', '42')).to.equal(42);
    expect(parseIntegerOption('--n', '9007199254740991')).to.equal(Number.MAX_SAFE_INTEGER);
    expect(parseIntegerOption('--n', '-5', { min: -10, max: 10 })).to.equal(-5);
    expect(parseIntegerOption('--n', '65535', { max: 65535 })).to.equal(65535);
    expect(integerOption('--n', { min: 1 })('7')).to.equal(7);
  });

  it('accepts -1 only where it means "no limit"', () => {
    expect(parseIntegerOption('--retention-ms', '-1', { min: 1, minusOne: 'keep forever' })).to.equal(-1);
    expect(() => parseIntegerOption('--retention-ms', '-2', { min: 1, minusOne: 'keep forever' })).to.throw(
      InvalidArgumentError,
      "--retention-ms must be -1 (keep forever) or a decimal integer from 1 to 9007199254740991, got '-2'.",
    );
    expect(() => parseIntegerOption('--partition', '-1')).to.throw(
      InvalidArgumentError,
      "--partition must be a decimal integer from 0 to 9007199254740991, got '-1'.",
    );
  });

  it('refuses anything but a plain decimal integer, naming the flag and the range', () => {
    const bad = [
      '',
      ' ',
      'abc',
      '1.5',
      '1e3',
      '0x10',
      '+5',
      ' 5',
      '5 ',
      '1_000',
      '007',
      '-0',
      'Infinity',
      'NaN',
      '9007199254740992',
      '4294967297',
    ];
    for (const value of bad) {
      expect(
        () => parseIntegerOption('--max-message-bytes', value, { min: 1, max: 67108864 }),
        JSON.stringify(value),
      ).to.throw(
        InvalidArgumentError,
        `--max-message-bytes must be a decimal integer from 1 to 67108864, got '${value}'.`,
      );
    }
  });

  it('refuses values outside the range', () => {
    expect(() => parseIntegerOption('--partitions', '0', { min: 1, max: 10000 })).to.throw(
      InvalidArgumentError,
      'from 1 to 10000',
    );
    expect(() => parseIntegerOption('--partitions', '10001', { min: 1, max: 10000 })).to.throw(
      InvalidArgumentError,
      "got '10001'",
    );
    expect(() => parseIntegerOption('--port', '65536', { max: 65535 })).to.throw(
      InvalidArgumentError,
      "--port must be a decimal integer from 0 to 65535, got '65536'.",
    );
  });
});
