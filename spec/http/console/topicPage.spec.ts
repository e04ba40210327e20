/** The console's topic page in a real browser: partitions as the agent holds them, and editing the settings. */
import { expect } from 'chai';
import { join } from 'node:path';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { launchBrowser, SCREENSHOTS, tableCells, type TestBrowser } from './browser.js';

describe('console: topic page', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let test: TestAgent;
  let browser: TestBrowser;

  before(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, agentId: 'agent-1' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await test?.stop();
    await stores?.cleanup();
  });

  it('shows each partition’s offsets, lease holder and epoch, segments and size, and saves new settings', async () => {
    await test.metadataStore.createTopic('orders', 3, { retentionMs: 86_400_000 });
    for (let i = 0; i < 2; i++) await produce(test.connection, 'orders', 0, records(10));
    await produce(test.connection, 'orders', 1, records(7));
    const { page } = browser;
    await page.goto(`http://${test.agent.httpAddress}/#/topics/orders`);
    await page.waitForSelector('#partitions');
    const holder = `agent-1 (${test.agent.address})`;
    const cells = await tableCells(page, '#partitions');
    expect(cells.map((row) => row.slice(0, 6))).to.deep.equal([
      ['0', '0', '20', holder, '1', '2'],
      ['1', '0', '7', holder, '1', '1'],
      ['2', '0', '0', '-', '0', '0'],
    ]);
    const sizes = await Promise.all(
      [0, 1].map(async (p) =>
        (await test.metadataStore.listSegments('orders', p)).reduce((sum, s) => sum + s.sizeBytes, 0),
      ),
    );
    expect(sizes[0]).to.be.lessThan(1024);
    expect(cells.map((row) => row[6])).to.deep.equal([`${sizes[0]} B`, `${sizes[1]} B`, '0 B']);
    expect(await page.inputValue('#settings input[name=retentionMs]')).to.equal('86400000');
    expect(await page.inputValue('#settings input[name=segmentBytes]')).to.equal(String(64 * 1024 * 1024));

    await page.fill('#settings input[name=retentionMs]', '3600000');
    await page.fill('#settings input[name=retentionBytes]', '1048576');
    await page.click('#settings button');
    await page.waitForSelector('#settings-status.ok');
    expect(await page.textContent('#settings-status')).to.equal('saved: retentionMs, retentionBytes');
    expect((await test.metadataStore.getTopic('orders'))!.config).to.deep.include({
      retentionMs: 3_600_000,
      retentionBytes: 1_048_576,
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-topic.png'), fullPage: true });

    // A setting the store refuses is shown with its typed error, and nothing changes.
    await page.fill('#settings input[name=segmentBytes]', '1');
    await page.click('#settings button');
    await page.waitForSelector('#settings-status.error');
    expect(await page.textContent('#settings-status')).to.match(/^INVALID_CONFIG: .*segment/);
    expect((await test.metadataStore.getTopic('orders'))!.config.segmentBytes).to.equal(64 * 1024 * 1024);
  });

  it('says so for a topic that does not exist', async () => {
    const { page } = browser;
    await page.goto(`http://${test.agent.httpAddress}/#/topics/nope`);
    await page.waitForSelector('#page-error');
    expect(await page.textContent('#page-error')).to.equal('no topic nope');
  });
});
