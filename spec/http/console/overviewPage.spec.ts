/** The console's overview page in a real browser, over a real agent with known traffic. */
import { expect } from 'chai';
import { join } from 'node:path';
import {
  createTestStores,
  produce,
  readAll,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { launchBrowser, SCREENSHOTS, tableCells, type TestBrowser } from './browser.js';

describe('console: overview page', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let test: TestAgent;
  let browser: TestBrowser;

  before(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, agentId: 'agent-1', consoleRateSampleMs: 200 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await test?.stop();
    await stores?.cleanup();
  });

  it('shows the agent, each topic with its partitions, records and segments, and the rate charts', async () => {
    await test.metadataStore.createTopic('orders', 3);
    await test.metadataStore.createTopic('payments', 1);
    for (let p = 0; p < 3; p++) await produce(test.connection, 'orders', p, records(100 * (p + 1)));
    await produce(test.connection, 'payments', 0, records(42));
    expect(await readAll(test.connection, 'orders', 2)).to.have.length(300);
    const { page } = browser;
    await page.goto(`http://${test.agent.httpAddress}/`);
    await page.waitForSelector('#topics tbody tr');
    const agents = await tableCells(page, '#agents');
    expect(agents.map((row) => [row[0], row[1], row[3]])).to.deep.equal([['agent-1', test.agent.address, '4']]);
    const topics = await tableCells(page, '#topics');
    expect(topics.map((row) => [row[0], row[1], row[2], row[4]])).to.deep.equal([
      ['orders', '3', '600', '3'],
      ['payments', '1', '42', '1'],
    ]);
    expect(topics[0]![3]).to.match(/^\d+\.\d KiB$/);
    // Samples every 200 ms: the charts draw once there are a few (the page refreshes every 5 s).
    await page.waitForSelector('#rates:not([data-samples="0"]):not([data-samples="1"])', { timeout: 15_000 });
    expect(await page.$$eval('#rates .uplot', (charts) => charts.length)).to.equal(2);
    expect(await page.textContent('#agent-id')).to.equal('agent agent-1');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-overview.png'), fullPage: true });
    // A topic links to its page.
    await page.click('#topics a:text("payments")');
    await page.waitForSelector('#partitions');
    expect(page.url()).to.match(/#\/topics\/payments$/);
  });
});
