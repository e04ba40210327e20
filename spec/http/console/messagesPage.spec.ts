/** The console's message browser in a real browser: reading by offset and timestamp, formats, producing a record. */
import { expect } from 'chai';
import { join } from 'node:path';
import {
  createTestStores,
  produce,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { launchBrowser, SCREENSHOTS, tableCells, type TestBrowser } from './browser.js';

const T = Date.UTC(2026, 0, 15, 9, 30);

describe('console: message browser', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let test: TestAgent;
  let browser: TestBrowser;

  before(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, agentId: 'agent-1' });
    browser = await launchBrowser();
    await test.metadataStore.createTopic('events', 2);
    await produce(test.connection, 'events', 0, [
      {
        key: Buffer.from('user-1'),
        value: Buffer.from('{"id":1,"name":"Ada"}'),
        headers: [{ key: 'source', value: Buffer.from('web') }],
        timestamp: T,
      },
      { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: T + 1000 },
      { key: Buffer.from('user-2'), value: Buffer.from('plain text'), timestamp: T + 2000 },
    ]);
  });
  after(async () => {
    await browser?.close();
    await test?.stop();
    await stores?.cleanup();
  });

  it('shows records from an offset as text, JSON or hex, with keys, headers and timestamps', async () => {
    const { page } = browser;
    await page.goto(`http://${test.agent.httpAddress}/#/topics/events/messages?partition=0&from=offset&at=0`);
    await page.waitForSelector('#records');
    expect(await page.textContent('#range')).to.equal('partition 0: offsets 0 to 3; showing 3 from 0');
    expect(await tableCells(page, '#records')).to.deep.equal([
      ['0', '2026-01-15T09:30:00.000Z', 'user-1', '{"id":1,"name":"Ada"}', 'source: web'],
      ['1', '2026-01-15T09:30:01.000Z', 'null', '00 01 02 ff', ''],
      ['2', '2026-01-15T09:30:02.000Z', 'user-2', 'plain text', ''],
    ]);
    await page.selectOption('select[name=format]', 'json');
    await page.locator('#records tbody td:nth-child(4) pre', { hasText: '"name": "Ada"' }).waitFor();
    const values = await page.$$eval('#records tbody td:nth-child(4) pre', (cells) => cells.map((c) => c.textContent));
    expect(values).to.deep.equal(['{\n  "id": 1,\n  "name": "Ada"\n}', '00 01 02 ff', 'plain text']);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-messages.png'), fullPage: true });
    await page.selectOption('select[name=format]', 'hex');
    await page.locator('#records tbody td:nth-child(3) pre', { hasText: '75 73 65 72 2d 31' }).waitFor();
    expect((await tableCells(page, '#records'))[2]![3]).to.equal('70 6c 61 69 6e 20 74 65 78 74');
  });

  it('reads from a timestamp, produces a test record, and shows a bad offset’s typed error', async () => {
    const { page } = browser;
    await page.goto(
      `http://${test.agent.httpAddress}/#/topics/events/messages?partition=0&from=timestamp&at=${T + 1000}`,
    );
    await page.waitForSelector('#records');
    expect((await tableCells(page, '#records')).map((row) => row[0])).to.deep.equal(['1', '2']);

    await page.fill('#produce input[name=key]', 'k9');
    await page.fill('#produce textarea[name=value]', 'hello from the console');
    await page.fill('#produce input[name=headers]', 'a=1, b=two');
    await page.click('#produce button');
    await page.waitForSelector('#produce-status.ok');
    expect(await page.textContent('#produce-status')).to.equal('produced to partition 0 at offset 3');
    await page.waitForSelector('#records tbody tr:nth-child(3)');
    expect((await tableCells(page, '#records'))[2]!.slice(2)).to.deep.equal([
      'k9',
      'hello from the console',
      'a: 1\nb: two',
    ]);
    expect((await test.metadataStore.getPartition('events', 0)).highWatermark).to.equal(4);

    await page.selectOption('select[name=from]', 'offset');
    await page.fill('input[name=at]', '99');
    await page.click('#browse button');
    await page.waitForSelector('#records-error');
    expect(await page.textContent('#records-error')).to.equal(
      "OFFSET_OUT_OF_RANGE: offset 99 is outside events/0's offsets 0 to 4",
    );
  });
});
