/**
 * The console page in a real browser against an agent with `--auth required`:
 * the page loads, says a token is needed, and once one is given in the header
 * form (kept in sessionStorage) sends it as a Bearer header on API calls.
 */
import { expect } from 'chai';
import { mintToken, tokenSha256 } from '../../../src/auth/credentials.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';
import { launchBrowser, tableCells, type TestBrowser } from './browser.js';

describe('console: bearer token form', function () {
  this.timeout(60_000);
  const aliceToken = mintToken('alice');
  let stores: TestStores;
  let test: TestAgent;
  let browser: TestBrowser;

  before(async () => {
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser({ name: 'alice', scram: {}, tokenSha256: tokenSha256(aliceToken), createdAt: 1 });
    await metadataStore.createTopic('orders', 2);
    test = await startTestAgent(stores, { metadataStore, httpPort: 0, agentId: 'tok-1', auth: { mode: 'required' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await test?.stop();
    await stores?.cleanup();
  });

  it('asks for a token, then sends it as a Bearer header and shows the pages', async () => {
    const { page } = browser;
    const sent: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) sent.push(request.headers()['authorization']);
    });
    await page.goto(`http://${test.agent.httpAddress}/`);
    await page.waitForSelector('#sign-in');
    expect(await page.textContent('#page-error')).to.contain('requires authentication');
    expect(sent.every((header) => header === undefined)).to.equal(true);
    expect(await page.isHidden('#token-clear')).to.equal(true);

    await page.fill('#token', aliceToken);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#topics tbody tr');
    expect((await tableCells(page, '#topics')).map((row) => [row[0], row[1]])).to.deep.equal([['orders', '2']]);
    await page.waitForFunction("document.getElementById('agent-id')?.textContent === 'agent tok-1'");
    expect(await page.evaluate("sessionStorage.getItem('streamhouse.token')")).to.equal(aliceToken);
    expect(await page.inputValue('#token')).to.equal('');
    expect(sent.at(-1)).to.equal(`Bearer ${aliceToken}`);

    // Kept for the tab: a reload stays signed in.
    await page.reload();
    await page.waitForSelector('#topics tbody tr');
    expect(await page.isVisible('#token-clear')).to.equal(true);

    // A wrong token is refused like none; forgetting it empties sessionStorage.
    await page.fill('#token', mintToken('alice'));
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#sign-in');
    expect(await page.textContent('#page-error')).to.equal('authentication failed (bearer token)');
    const api = (url: string) => new URL(url).pathname.startsWith('/api/');
    const anonymous = page.waitForRequest((r) => api(r.url()) && r.headers()['authorization'] === undefined);
    await page.click('#token-clear');
    await anonymous;
    expect(await page.evaluate("sessionStorage.getItem('streamhouse.token')")).to.equal(null);
    await page.waitForSelector('#sign-in');
  });
});
