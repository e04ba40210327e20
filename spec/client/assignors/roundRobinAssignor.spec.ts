import { expect } from 'chai';
import { roundRobinAssignor } from '../../../src/client/assignors/index.js';
import { counts, member, summarize } from './assignorFixtures.js';

describe('client/assignors/roundRobinAssignor', () => {
  it('is named roundrobin and eager', () => {
    expect(roundRobinAssignor.name).to.equal('roundrobin');
    expect(roundRobinAssignor.rebalanceProtocol).to.equal('eager');
  });

  it('deals all partitions in turn with identical subscriptions', () => {
    const result = roundRobinAssignor.assign(
      [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])],
      counts([
        ['t0', 3],
        ['t1', 3],
      ]),
    );
    expect(summarize(result)).to.deep.equal({ c0: { t0: [0, 2], t1: [1] }, c1: { t0: [1], t1: [0, 2] } });
  });

  it('skips members not subscribed to a partition’s topic (uneven subscriptions)', () => {
    const result = roundRobinAssignor.assign(
      [member('c0', ['t0']), member('c1', ['t0', 't1']), member('c2', ['t0', 't1', 't2'])],
      counts([
        ['t0', 1],
        ['t1', 2],
        ['t2', 3],
      ]),
    );
    expect(summarize(result)).to.deep.equal({
      c0: { t0: [0] },
      c1: { t1: [0] },
      c2: { t1: [1], t2: [0, 1, 2] },
    });
  });

  it('moves the turn past the member that took a partition, not past the skipped ones', () => {
    // a: x, b: x+y, c: y. Order x0 x1 y0 y1 y2: x0→a, x1→b, y0→c, y1→b (a skipped), y2→c.
    const result = roundRobinAssignor.assign(
      [member('a', ['x']), member('b', ['x', 'y']), member('c', ['y'])],
      counts([
        ['x', 2],
        ['y', 3],
      ]),
    );
    expect(summarize(result)).to.deep.equal({ a: { x: [0] }, b: { x: [1], y: [1] }, c: { y: [0, 2] } });
  });
});
