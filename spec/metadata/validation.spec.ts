/** The shared input checks: exact errors and messages that say what to change. */
import { expect } from 'chai';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidRequestError,
  InvalidTopicError,
} from '../../src/protocol/errors.js';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/metadataStore.js';
import {
  resolveTopicConfig,
  validateAgentId,
  validateGroupId,
  validatePartitionCount,
  validateTopicName,
} from '../../src/metadata/validation.js';
import { checkDeletion, checkReplacement } from '../../src/metadata/segmentRules.js';
import { segment } from './contract/harness.js';

describe('metadata validation', () => {
  it('accepts topic names of [A-Za-z0-9._-], 1 to 249 long, except . and ..', () => {
    for (const name of ['a', 'A.b_c-9', '...', '.hidden', 'x'.repeat(249)])
      expect(() => validateTopicName(name), name).to.not.throw();
    const cases: [string, string][] = [
      ['', 'topic name is empty: use 1 to 249 characters from [A-Za-z0-9._-]'],
      ['.', "topic name '.' is reserved: choose another name"],
      ['..', "topic name '..' is reserved: choose another name"],
      ['x'.repeat(250), 'topic name is 250 characters long: shorten it to at most 249'],
      ['a b', "topic name 'a b' has characters outside [A-Za-z0-9._-]: replace them (e.g. with '-' or '_')"],
      ['ünï', "topic name 'ünï' has characters outside [A-Za-z0-9._-]: replace them (e.g. with '-' or '_')"],
      ['a\nb', "topic name 'a\nb' has characters outside [A-Za-z0-9._-]: replace them (e.g. with '-' or '_')"],
    ];
    for (const [name, message] of cases) {
      expect(() => validateTopicName(name), JSON.stringify(name)).to.throw(InvalidTopicError, message);
    }
  });

  it('accepts partition counts 1..10000', () => {
    validatePartitionCount(1);
    validatePartitionCount(10_000);
    for (const count of [0, 10_001, 2.5, -3, Number.POSITIVE_INFINITY]) {
      expect(() => validatePartitionCount(count)).to.throw(
        InvalidPartitionsError,
        `partition count ${count} is invalid: use an integer from 1 to 10000`,
      );
    }
  });

  it('fills config defaults and checks every field with a message naming the range', () => {
    expect(resolveTopicConfig()).to.deep.equal(DEFAULT_TOPIC_CONFIG);
    expect(
      resolveTopicConfig({
        retentionMs: 1,
        retentionBytes: 1,
        segmentBytes: 1024 * 1024,
        maxMessageBytes: 64 * 1024 * 1024,
      }),
    ).to.deep.equal({
      retentionMs: 1,
      retentionBytes: 1,
      segmentBytes: 1024 * 1024,
      maxMessageBytes: 64 * 1024 * 1024,
    });
    const cases: [object, string][] = [
      [{ retentionMs: 0 }, 'retentionMs 0 is invalid: use -1 for no limit or a positive integer (ms)'],
      [{ retentionMs: 1.5 }, 'retentionMs 1.5 is invalid'],
      [{ retentionBytes: -5 }, 'retentionBytes -5 is invalid: use -1 for no limit or a positive integer (bytes)'],
      [
        { segmentBytes: 1024 * 1024 - 1 },
        'segmentBytes 1048575 is invalid: use an integer from 1048576 to 1073741824 (bytes)',
      ],
      [{ maxMessageBytes: 0 }, 'maxMessageBytes 0 is invalid: use an integer from 1 to 67108864 (bytes)'],
      [{ maxMessageBytes: 64 * 1024 * 1024 + 1 }, 'maxMessageBytes 67108865 is invalid'],
      [{ segmentSize: 5 }, "unknown topic config 'segmentSize'"],
    ];
    for (const [config, message] of cases) {
      const error = (() => {
        try {
          resolveTopicConfig(config as never, 'orders');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(config)).to.be.instanceOf(InvalidConfigError);
      expect((error as InvalidConfigError).message).to.include(message);
      expect((error as InvalidConfigError).context).to.deep.equal({ topic: 'orders' });
    }
  });

  it('accepts group and agent ids of 1..255 printable characters', () => {
    validateGroupId('my group:é');
    validateAgentId('agent-1');
    expect(() => validateGroupId('')).to.throw(InvalidRequestError, 'group id is empty');
    expect(() => validateGroupId('g'.repeat(256))).to.throw(InvalidRequestError, 'shorten it to at most 255');
    expect(() => validateGroupId('a\u0000b')).to.throw(InvalidRequestError, 'contains control characters');
    expect(() => validateAgentId('')).to.throw(InvalidRequestError, 'agent id "" is invalid');
  });

  it('checks compactions and deletions against the registry', () => {
    const [a, b, c] = [segment('t', 0, 0, 2), segment('t', 0, 2, 5), segment('t', 0, 5, 9)];
    expect(checkReplacement([b!.key, a!.key], [b, a], { ...segment('t', 0, 0, 5), key: 'm' }, false)).to.equal(
      undefined,
    );
    expect(checkReplacement(['x'], [undefined], segment('t', 0, 0, 2), false)).to.deep.equal({
      reason: 'unknown-key',
      key: 'x',
    });
    expect(checkReplacement([a!.key, c!.key], [a, c], segment('t', 0, 0, 9), false)).to.deep.equal({
      reason: 'gap',
      key: c!.key,
      expectedBase: 2,
    });
    expect(checkReplacement([a!.key], [a], segment('t', 0, 0, 3), false)).to.deep.equal({
      reason: 'coverage',
      key: a!.key,
      baseOffset: 0,
      endOffset: 2,
    });
    expect(checkReplacement([a!.key], [a], { ...a!, key: 'taken' }, true)).to.deep.equal({
      reason: 'key-exists',
      key: 'taken',
    });
    expect(checkDeletion([a!.key], [true], [a!], 2)).to.equal(undefined);
    expect(checkDeletion([b!.key], [true], [a!], 5)).to.deep.equal({ reason: 'not-oldest', key: b!.key });
    expect(checkDeletion(['x'], [false], [a!], 2)).to.deep.equal({ reason: 'unknown-key', key: 'x' });
    expect(checkDeletion([a!.key], [true], [a!], 3)).to.deep.equal({ reason: 'log-start', expected: 2, given: 3 });
  });
});
