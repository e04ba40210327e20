/**
 * AclAuthorizer over a real SQLite store: deny beats allow, prefix vs
 * literal, `*`, implied describe, superusers, typed errors, denials logged
 * once per window with bounded memory, refresh after a change.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { AclAuthorizer } from '../../../src/agent/acl/aclAuthorizer.js';
import { DeniedLog } from '../../../src/agent/acl/deniedLog.js';
import type { AclEntry } from '../../../src/metadata/aclRules.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';

const topic = (principal: string, permission: 'allow' | 'deny', operation: AclEntry['operation'], name: string) =>
  ({
    principal,
    permission,
    operation,
    resourceType: 'topic',
    patternType: name.endsWith('*') ? 'prefix' : 'literal',
    resourceName: name.replace(/\*$/, ''),
  }) as AclEntry;

describe('agent/acl/AclAuthorizer', () => {
  let store: SqliteMetadataStore;
  let lines: { msg: string; principal?: string; operation?: string; resource?: string }[];
  let now: number;

  const authorizer = async (entries: AclEntry[], superUsers: string[] = []) => {
    for (const entry of entries) await store.addAcl(entry);
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const auth = new AclAuthorizer({
      store,
      logger,
      superUsers,
      refreshMs: 60_000,
      deniedLogWindowMs: 1000,
      clock: () => now,
    });
    await auth.start();
    return auth;
  };

  beforeEach(() => {
    store = new SqliteMetadataStore({ path: ':memory:' });
    lines = [];
    now = 0;
  });
  afterEach(() => store.close());

  it('allows literal and prefix matches only, and no match is a denial', async () => {
    const auth = await authorizer([
      topic('alice', 'allow', 'produce', 'orders'),
      topic('alice', 'allow', 'consume', 'log.*'),
    ]);
    expect(auth.mayTopic('alice', 'produce', 'orders')).to.equal(true);
    expect(auth.mayTopic('alice', 'produce', 'orders2')).to.equal(false);
    expect(auth.mayTopic('alice', 'consume', 'log.a')).to.equal(true);
    expect(auth.mayTopic('alice', 'consume', 'log.')).to.equal(true);
    expect(auth.mayTopic('alice', 'consume', 'log')).to.equal(false);
    expect(auth.mayTopic('alice', 'consume', 'orders')).to.equal(false);
    expect(auth.mayTopic('bob', 'produce', 'orders')).to.equal(false);
    expect(auth.mayTopic(undefined, 'produce', 'orders')).to.equal(false);
  });

  it('lets a deny win over an allow, for the principal and for *', async () => {
    const auth = await authorizer([
      topic('*', 'allow', 'produce', 'a*'),
      topic('alice', 'deny', 'produce', 'a.secret'),
      topic('*', 'deny', 'produce', 'a.closed*'),
    ]);
    expect(auth.mayTopic('bob', 'produce', 'a.secret')).to.equal(true);
    expect(auth.mayTopic('alice', 'produce', 'a.secret')).to.equal(false);
    expect(auth.mayTopic('alice', 'produce', 'a.open')).to.equal(true);
    expect(auth.mayTopic('bob', 'produce', 'a.closed.1')).to.equal(false);
    expect(auth.mayTopic(undefined, 'produce', 'a.open')).to.equal(true);
  });

  it('implies describe from produce, consume, delete, alter (allows only), and group describe from read', async () => {
    const auth = await authorizer([
      topic('p', 'allow', 'produce', 't'),
      topic('c', 'allow', 'consume', 't'),
      topic('x', 'allow', 'create', 't'),
      topic('p', 'deny', 'consume', 't'),
      { ...topic('g', 'allow', 'read', 'g1'), resourceType: 'group' },
    ]);
    expect(auth.mayTopic('p', 'describe', 't')).to.equal(true);
    expect(auth.mayTopic('c', 'describe', 't')).to.equal(true);
    expect(auth.mayTopic('x', 'describe', 't')).to.equal(false);
    expect(auth.mayTopic('c', 'produce', 't')).to.equal(false);
    expect(auth.mayGroup('g', 'describe', 'g1')).to.equal(true);
    expect(auth.mayGroup('g', 'delete', 'g1')).to.equal(false);
  });

  it('lets superusers do anything, and cluster admins create topics and get producer ids', async () => {
    const auth = await authorizer(
      [{ ...topic('ops', 'allow', 'admin', 'cluster'), resourceType: 'cluster' }],
      ['root'],
    );
    expect(auth.topicError('root', 'delete', 'any')).to.equal(undefined);
    expect(auth.groupError('root', 'read', 'any')).to.equal(undefined);
    expect(auth.clusterError('root', 'admin')).to.equal(undefined);
    expect(auth.topicError('ops', 'create', 'new')).to.equal(undefined);
    expect(auth.mayProduceSomewhere('ops')).to.equal(true);
    expect(auth.mayTopic('ops', 'produce', 'new')).to.equal(false);
    expect(auth.mayProduceSomewhere('nobody')).to.equal(false);
  });

  it('answers denials with typed, non-retriable errors naming principal, operation and resource', async () => {
    const auth = await authorizer([]);
    const t = auth.topicError('alice', 'produce', 'orders');
    expect(t?.code).to.equal('TOPIC_AUTHORIZATION_FAILED');
    expect(t?.message).to.equal("principal 'alice' may not produce on topic 'orders'");
    expect(t?.retriable).to.equal(false);
    expect(t?.context).to.deep.equal({ topic: 'orders' });
    const g = auth.groupError(undefined, 'read', 'g1');
    expect(g?.code).to.equal('GROUP_AUTHORIZATION_FAILED');
    expect(g?.message).to.equal("principal 'ANONYMOUS' may not read on group 'g1'");
    const c = auth.clusterError('bob', 'admin');
    expect(c?.code).to.equal('CLUSTER_AUTHORIZATION_FAILED');
    expect(c?.message).to.equal("principal 'bob' may not admin on the cluster");
  });

  it('logs a denial once per principal, resource and operation within the window', async () => {
    const auth = await authorizer([]);
    for (let i = 0; i < 5; i++) auth.topicError('alice', 'produce', 'orders');
    auth.topicError('alice', 'consume', 'orders');
    auth.topicError('bob', 'produce', 'orders');
    now = 999;
    auth.topicError('alice', 'produce', 'orders');
    now = 1000;
    auth.topicError('alice', 'produce', 'orders');
    const denied = lines.filter((l) => l.msg === 'authorization denied');
    expect(denied.map((l) => `${l.principal} ${l.operation} ${l.resource}`)).to.deep.equal([
      'alice produce orders',
      'alice consume orders',
      'bob produce orders',
      'alice produce orders',
    ]);
  });

  it('sees a change after a refresh, and keeps the last ACLs when the store fails', async () => {
    const auth = await authorizer([]);
    expect(auth.mayTopic('alice', 'produce', 'orders')).to.equal(false);
    await store.addAcl(topic('alice', 'allow', 'produce', 'orders'));
    expect(auth.mayTopic('alice', 'produce', 'orders')).to.equal(false);
    await auth.refresh();
    expect(auth.mayTopic('alice', 'produce', 'orders')).to.equal(true);
    await store.close();
    await auth.refresh();
    expect(auth.mayTopic('alice', 'produce', 'orders')).to.equal(true);
    expect(lines.map((l) => l.msg)).to.include('ACL refresh failed: the last ACLs read stay in force');
    auth.stop();
  });
});

describe('agent/acl/AclAuthorizer decision cache', () => {
  it('stays bounded however many distinct resources are checked', async () => {
    const store = new SqliteMetadataStore({ path: ':memory:' });
    const auth = new AclAuthorizer({
      store,
      logger: undefined,
      superUsers: [],
      refreshMs: 60_000,
      deniedLogWindowMs: 0,
    });
    await auth.start();
    for (let i = 0; i < 150_000; i++) auth.mayTopic('p', 'produce', `t${i}`);
    expect(auth.cachedDecisions).to.equal(50_000);
    auth.stop();
    await store.close();
  });
});

describe('agent/acl/DeniedLog', () => {
  it('remembers at most maxEntries keys, forgetting the oldest', () => {
    let now = 0;
    const log = new DeniedLog(60_000, 3, () => now);
    for (const key of ['a', 'b', 'c', 'd']) expect(log.shouldLog(key)).to.equal(true);
    expect(log.size).to.equal(3);
    expect(log.shouldLog('a')).to.equal(true);
    expect(log.shouldLog('d')).to.equal(false);
    now = 60_000;
    expect(log.shouldLog('d')).to.equal(true);
    for (let i = 0; i < 10_000; i++) log.shouldLog(`k${i}`);
    expect(log.size).to.equal(3);
  });
});
