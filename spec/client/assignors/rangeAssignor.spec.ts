import { expect } from 'chai';
import { rangeAssignor } from '../../../src/client/assignors/index.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import { counts, member, summarize } from './assignorFixtures.js';

describe('client/assignors/rangeAssignor', () => {
  it('is named range and eager', () => {
    expect(rangeAssignor.name).to.equal('range');
    expect(rangeAssignor.rebalanceProtocol).to.equal('eager');
  });

  it('splits each topic into ranges, the first members taking the extras (2 members x 3 topics x 3 partitions)', () => {
    const topics = ['t0', 't1', 't2'];
    const result = rangeAssignor.assign(
      [member('c1', topics), member('c0', topics)],
      counts([
        ['t0', 3],
        ['t1', 3],
        ['t2', 3],
      ]),
    );
    expect(summarize(result)).to.deep.equal({
      c0: { t0: [0, 1], t1: [0, 1], t2: [0, 1] },
      c1: { t0: [2], t1: [2], t2: [2] },
    });
  });

  it('gives 7 partitions to 3 members as [0,1,2] [3,4] [5,6]', () => {
    const result = rangeAssignor.assign(
      [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      counts([['t', 7]]),
    );
    expect(summarize(result)).to.deep.equal({ a: { t: [0, 1, 2] }, b: { t: [3, 4] }, c: { t: [5, 6] } });
  });

  it('ranges each topic over its own subscribers only; unknown topics and idle members get nothing', () => {
    const result = rangeAssignor.assign(
      [member('a', ['x']), member('b', ['x', 'y', 'ghost']), member('c', [])],
      counts([
        ['x', 3],
        ['y', 2],
      ]),
    );
    expect(summarize(result)).to.deep.equal({ a: { x: [0, 1] }, b: { x: [2], y: [0, 1] }, c: {} });
  });

  it('leaves members beyond the partition count empty', () => {
    const result = rangeAssignor.assign(
      [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      counts([['t', 2]]),
    );
    expect(summarize(result)).to.deep.equal({ a: { t: [0] }, b: { t: [1] }, c: {} });
  });

  it('refuses duplicate member ids and bad partition counts', () => {
    expect(() => rangeAssignor.assign([member('a', ['t']), member('a', ['t'])], counts([['t', 1]]))).to.throw(
      InvalidRequestError,
      'member a appears twice',
    );
    expect(() => rangeAssignor.assign([member('a', ['t'])], counts([['t', -1]]))).to.throw(
      InvalidRequestError,
      'partition count of t',
    );
  });
});
