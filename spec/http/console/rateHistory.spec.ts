import { expect } from 'chai';
import { RateHistory } from '../../../src/http/console/rateHistory.js';

describe('http/console/rateHistory', () => {
  const totals = (producedRecords: number, producedBytes: number, fetchedRecords = 0, fetchedBytes = 0) => ({
    producedRecords,
    producedBytes,
    fetchedRecords,
    fetchedBytes,
  });

  it('keeps per-second rates between samples, the first sample being the baseline', () => {
    const history = new RateHistory();
    history.sample(1000, totals(0, 0));
    expect(history.all()).to.deep.equal([]);
    history.sample(3000, totals(100, 4000, 50, 2000));
    history.sample(3500, totals(150, 4000, 50, 2000));
    expect(history.all()).to.deep.equal([
      { at: 3000, produceRecordsPerSec: 50, produceBytesPerSec: 2000, fetchRecordsPerSec: 25, fetchBytesPerSec: 1000 },
      { at: 3500, produceRecordsPerSec: 100, produceBytesPerSec: 0, fetchRecordsPerSec: 0, fetchBytesPerSec: 0 },
    ]);
  });

  it('keeps at most `samples`, dropping the oldest, and ignores a clock going back', () => {
    const history = new RateHistory(2);
    for (let i = 0; i <= 4; i++) history.sample(i * 1000, totals(i * 10, 0));
    history.sample(2000, totals(100, 0));
    expect(history.all().map((s) => [s.at, s.produceRecordsPerSec])).to.deep.equal([
      [3000, 10],
      [4000, 10],
    ]);
  });
});
