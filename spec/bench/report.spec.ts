import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { loadResults, renderReport } from '../../bench/report.js';

describe('bench/README.md', () => {
  it('is what npm run bench:report renders from bench/results (run it after a bench)', async () => {
    const written = await readFile(new URL('../../bench/README.md', import.meta.url), 'utf8');
    expect(written).to.equal(renderReport(await loadResults()));
  });
});
