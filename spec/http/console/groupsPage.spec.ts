/**
 * The console's consumer groups in a real browser: a group with a live member
 * and committed offsets, its lag, a reset refused while it has members and
 * done once it is empty.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { encodeAssignment } from '../../../src/client/assignors/memberCodec.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { launchBrowser, SCREENSHOTS, tableCells, type TestBrowser } from './browser.js';

describe('console: consumer groups', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let test: TestAgent;
  let browser: TestBrowser;

  before(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, agentId: 'agent-1', groupInitialRebalanceDelayMs: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await test?.stop();
    await stores?.cleanup();
  });

  it('shows members, assignments, committed offsets and lag; resets offsets only once the group is empty', async () => {
    await test.metadataStore.createTopic('orders', 2);
    await produce(test.connection, 'orders', 0, records(10));
    await produce(test.connection, 'orders', 1, records(4));
    await test.metadataStore.commitOffsets('billing', -1, '', [
      { topic: 'orders', partition: 0, offset: 7, metadata: '' },
      { topic: 'orders', partition: 1, offset: 4, metadata: '' },
    ]);
    await test.metadataStore.commitOffsets('audit', -1, '', [
      { topic: 'orders', partition: 0, offset: 0, metadata: '' },
    ]);
    const client = test.connection.client;
    const joined = await client.joinGroup({
      groupId: 'billing',
      memberId: '',
      clientId: 'billing-service',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    const assignment = encodeAssignment({ version: 0, partitions: [{ topic: 'orders', partitions: [0, 1] }] });
    await client.syncGroup({
      groupId: 'billing',
      generationId: joined.generationId,
      memberId: joined.memberId,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from(assignment) }],
    });

    const { page } = browser;
    await page.goto(`http://${test.agent.httpAddress}/#/groups`);
    await page.waitForSelector('#groups');
    expect(await tableCells(page, '#groups')).to.deep.equal([
      ['audit', 'empty', '0'],
      ['billing', 'stable', '1'],
    ]);
    await page.click('#groups a:text("billing")');
    await page.waitForSelector('#offsets');
    expect(await page.textContent('#group-state')).to.equal(
      'stable, generation 1, 1 member(s), protocol range, total lag 3',
    );
    const members = await tableCells(page, '#members');
    expect(members.map((row) => row.slice(0, 3))).to.deep.equal([
      [`${joined.memberId} (leader)`, 'billing-service', 'orders: 0, 1'],
    ]);
    expect(await tableCells(page, '#offsets')).to.deep.equal([
      ['orders', '0', '7', '10', '3'],
      ['orders', '1', '4', '4', '0'],
    ]);

    // Refused while the member is there, with the typed error; nothing moves.
    await page.selectOption('#reset select[name=to]', 'earliest');
    await page.click('#reset button');
    await page.waitForSelector('#reset-status.error');
    expect(await page.textContent('#reset-status')).to.equal(
      'ILLEGAL_GENERATION: group billing has 1 live member: its offsets can only be changed while it is empty ' +
        '(stop its consumers first)',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'console-groups.png'), fullPage: true });
    expect((await test.metadataStore.fetchOffsets('billing')).map((o) => o.offset)).to.deep.equal([7, 4]);

    await client.leaveGroup({ groupId: 'billing', memberId: joined.memberId });
    await page.selectOption('#reset select[name=to]', 'offset');
    await page.fill('#reset input[name=value]', '2');
    await page.click('#reset button');
    await page.waitForSelector('#reset-status.ok');
    expect(await page.textContent('#reset-status')).to.equal('reset orders/0 → 2, orders/1 → 2');
    await page.locator('#group-state', { hasText: /^empty/ }).waitFor();
    expect(await tableCells(page, '#offsets')).to.deep.equal([
      ['orders', '0', '2', '10', '8'],
      ['orders', '1', '2', '4', '2'],
    ]);
    expect((await test.metadataStore.fetchOffsets('billing')).map((o) => o.offset)).to.deep.equal([2, 2]);
  });
});
