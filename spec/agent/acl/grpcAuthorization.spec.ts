/**
 * ACLs enforced on a real agent over gRPC with mTLS: principals are the CNs
 * of client certificates made at test time; a client without a certificate
 * is ANONYMOUS. Every method allowed with its ACL and denied without, with
 * typed client errors; prefix vs literal, deny over allow, superusers.
 */
import { expect } from 'chai';
import { connectAgent, type AgentConnection } from '../../../src/client/agentClient.js';
import { createProducer } from '../../../src/client/producer/producer.js';
import type { AclEntry, AclOperation, AclResourceType } from '../../../src/metadata/aclRules.js';
import type { MetadataStore } from '../../../src/metadata/metadataStore.js';
import {
  ClusterAuthorizationFailedError,
  fromErrorInfo,
  GroupAuthorizationFailedError,
  TopicAuthorizationFailedError,
} from '../../../src/protocol/errors.js';
import { AckMode } from '../../../src/protocol/generated/streamhouse.js';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import {
  createTestStores,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { TestCertificates, type Certificate } from '../../support/certificates.js';

function acl(
  principal: string,
  permission: 'allow' | 'deny',
  operation: AclOperation,
  resourceType: AclResourceType,
  name: string,
): AclEntry {
  const prefix = name.endsWith('*') && name !== '*';
  return {
    principal,
    permission,
    operation,
    resourceType,
    patternType: prefix ? 'prefix' : 'literal',
    resourceName: prefix ? name.slice(0, -1) : name,
  };
}

describe('ACLs over gRPC with mTLS principals', function () {
  this.timeout(30_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let server: Certificate;
  const clients: Record<string, Certificate> = {};
  let stores: TestStores;
  let store: MetadataStore;
  let agent: TestAgent | undefined;
  const connections: AgentConnection[] = [];

  before(() => {
    ca = certs.ca('acl-ca');
    server = certs.signed(ca, 'acl-server', 'agent.test', 7001, 'server');
    for (const [i, name] of ['alice', 'bob', 'root'].entries())
      clients[name] = certs.signed(ca, `acl-${name}`, name, 7100 + i, 'client');
  });
  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    store = stores.newMetadataStore();
    for (const topic of ['orders.a', 'orders.b', 'orders.del', 'secret']) await store.createTopic(topic, 1);
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await agent?.stop();
    agent = undefined;
    await store.close();
    await stores.cleanup();
  });

  const start = async (entries: AclEntry[], superUsers: string[] = []) => {
    for (const entry of entries) await store.addAcl(entry);
    agent = await startTestAgent(stores, {
      tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile, clientAuth: 'optional' },
      authorizer: { superUsers },
      groupInitialRebalanceDelayMs: 0,
    });
  };
  /** A connection as `name` (its certificate), or ANONYMOUS (no certificate). */
  const as = (name: string | undefined): AgentConnection => {
    const cert = name === undefined ? {} : { cert: clients[name]!.cert, key: clients[name]!.key };
    const c = connectAgent(agent!.agent.address, { tls: { ca: ca.cert, servername: 'localhost', ...cert } });
    connections.push(c);
    return c;
  };

  it('checks every topic operation: allowed with its ACL (literal or prefix), denied without', async () => {
    await start([
      acl('alice', 'allow', 'produce', 'topic', 'orders.*'),
      acl('alice', 'allow', 'consume', 'topic', 'orders.a'),
      acl('alice', 'allow', 'create', 'topic', 'new.*'),
      acl('alice', 'allow', 'delete', 'topic', 'orders.del'),
      acl('alice', 'allow', 'alter', 'topic', 'orders.a'),
    ]);
    const alice = as('alice');
    const bob = as('bob');
    expect(await produce(alice, 'orders.b', 0, records(2))).to.equal(0);
    const denied = await rejection(produce(bob, 'orders.b', 0, records(1)));
    expect(denied).to.be.instanceOf(TopicAuthorizationFailedError);
    expect((denied as TopicAuthorizationFailedError).retriable).to.equal(false);
    expect((denied as Error).message).to.equal("principal 'bob' may not produce on topic 'orders.b'");
    await produce(alice, 'orders.a', 0, records(1));
    expect(await readAll(alice, 'orders.a', 0)).to.deep.equal([[0, 'v-0']]);
    expect(await rejection(readAll(alice, 'orders.b', 0))).to.be.instanceOf(TopicAuthorizationFailedError);

    // Describe is implied by produce: ListOffsets and Metadata answer alice, not bob.
    const offsets = await alice.client.listOffsets({ partitions: [{ topic: 'orders.b', partition: 0, spec: 0 }] });
    expect(offsets.results.map((r) => [r.offset, r.error?.code ?? 0])).to.deep.equal([[2, 0]]);
    const bobOffsets = await bob.client.listOffsets({ partitions: [{ topic: 'orders.b', partition: 0, spec: 0 }] });
    expect(fromErrorInfo(bobOffsets.results[0]!.error)).to.be.instanceOf(TopicAuthorizationFailedError);
    const named = await alice.client.metadata({ topics: ['orders.a', 'secret', 'missing'] });
    expect(named.topics.map((t) => [t.name, t.error?.code ?? 0, t.partitions.length])).to.deep.equal([
      ['orders.a', 0, 1],
      ['secret', 46, 0],
      ['missing', 46, 0],
    ]);
    expect((await alice.client.metadata({ topics: [] })).topics.map((t) => t.name)).to.deep.equal([
      'orders.a',
      'orders.b',
      'orders.del',
    ]);
    expect((await bob.client.metadata({ topics: ['secret'] })).topics[0]!.error?.code).to.equal(46);
    expect((await bob.client.listTopics({})).names).to.deep.equal([]);
    expect((await alice.client.listTopics({})).names).to.deep.equal(['orders.a', 'orders.b', 'orders.del']);
    expect((await alice.client.describeTopic({ name: 'orders.a' })).topic?.name).to.equal('orders.a');
    expect(await rejection(bob.client.describeTopic({ name: 'orders.a' }))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );

    await alice.client.createTopic({ name: 'new.x', partitions: 2 });
    expect(await rejection(alice.client.createTopic({ name: 'other', partitions: 1 }))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    expect(await store.getTopic('other')).to.equal(undefined);
    const config = { retentionMs: 5000, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 };
    await alice.client.alterTopicConfig({ name: 'orders.a', config });
    expect((await store.getTopic('orders.a'))?.config.retentionMs).to.equal(5000);
    expect(await rejection(alice.client.alterTopicConfig({ name: 'orders.b', config }))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    await alice.client.deleteTopic({ name: 'orders.del' });
    expect(await rejection(alice.client.deleteTopic({ name: 'orders.a' }))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['new.x', 'orders.a', 'orders.b', 'secret']);
  });

  it('fails a Producer at once with the typed error, not retried', async () => {
    await start([acl('alice', 'allow', 'produce', 'topic', 'orders.a')]);
    const tls = (name: string) => ({
      ca: ca.cert,
      servername: 'localhost',
      cert: clients[name]!.cert,
      key: clients[name]!.key,
    });
    const address = agent!.agent.address;
    // An idempotent producer needs a producer id: refused to a principal that may produce nowhere.
    expect(await rejection(createProducer({ bootstrap: [address], tls: tls('bob') }))).to.be.instanceOf(
      ClusterAuthorizationFailedError,
    );
    const bob = await createProducer({ bootstrap: [address], lingerMs: 1, tls: tls('bob'), idempotence: false });
    const alice = await createProducer({ bootstrap: [address], lingerMs: 1, tls: tls('alice') });
    try {
      const started = Date.now();
      const error = await rejection(bob.send({ topic: 'orders.a', partition: 0, value: 'x' }));
      expect(error).to.be.instanceOf(TopicAuthorizationFailedError);
      expect(Date.now() - started).to.be.below(5000);
      expect(await (await alice.send({ topic: 'orders.a', partition: 0, value: 'y' })).waitOffset()).to.equal(0);
    } finally {
      await bob.close();
      await alice.close();
    }
  });

  it('answers denied partitions of a mixed request in place and writes only the allowed ones', async () => {
    await start([
      acl('alice', 'allow', 'produce', 'topic', 'orders.a'),
      acl('alice', 'allow', 'consume', 'topic', '*'),
    ]);
    const alice = as('alice');
    const batch = () => encodeRecordBatch(records(1));
    const { results } = await alice.client.produce({
      acks: AckMode.ACK_MODE_DURABLE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [
        { topic: 'secret', partition: 0, batch: batch() },
        { topic: 'orders.a', partition: 0, batch: batch() },
        { topic: 'secret', partition: 0, batch: batch() },
      ],
    });
    expect(results.map((r) => [r.topic, r.error?.code ?? 0, r.baseOffset])).to.deep.equal([
      ['secret', 46, -1],
      ['orders.a', 0, 0],
      ['secret', 46, -1],
    ]);
    expect((await store.getPartition('secret', 0)).highWatermark).to.equal(0);
    expect((await store.getPartition('orders.a', 0)).highWatermark).to.equal(1);
  });

  it('checks groups: read to take part and commit, describe to look, delete to delete', async () => {
    await start([acl('alice', 'allow', 'read', 'group', 'g.*'), acl('alice', 'allow', 'consume', 'topic', 'orders.a')]);
    const alice = as('alice');
    const bob = as('bob');
    const join = (c: AgentConnection, groupId: string) =>
      c.client.joinGroup({
        groupId,
        memberId: '',
        clientId: 'test',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      });
    const joined = await join(alice, 'g.1');
    expect(joined.members.length).to.equal(1);
    const bobJoin = await rejection(join(bob, 'g.1'));
    expect(bobJoin).to.be.instanceOf(GroupAuthorizationFailedError);
    expect((bobJoin as Error).message).to.equal("principal 'bob' may not read on group 'g.1'");
    expect(await rejection(join(alice, 'h.1'))).to.be.instanceOf(GroupAuthorizationFailedError);
    await alice.client.leaveGroup({ groupId: 'g.1', memberId: joined.memberId });

    const commit = await alice.client.commitOffsets({
      groupId: 'g.c',
      generationId: -1,
      memberId: '',
      partitions: [
        { topic: 'orders.a', partition: 0, offset: 0, metadata: '' },
        { topic: 'orders.b', partition: 0, offset: 0, metadata: '' },
      ],
    });
    expect(commit.results.map((r) => [r.topic, r.error?.code ?? 0])).to.deep.equal([
      ['orders.a', 0],
      ['orders.b', 46],
    ]);
    const fetched = await alice.client.fetchOffsets({ groupId: 'g.c', partitions: [] });
    expect(fetched.offsets.map((o) => [o.topic, o.offset])).to.deep.equal([['orders.a', 0]]);
    expect(await rejection(bob.client.fetchOffsets({ groupId: 'g.c', partitions: [] }))).to.be.instanceOf(
      GroupAuthorizationFailedError,
    );
    expect((await alice.client.describeGroup({ groupId: 'g.c' })).groupId).to.equal('g.c');
    expect((await alice.client.listGroups({})).groups.map((g) => g.groupId)).to.deep.equal(['g.1', 'g.c']);
    expect((await bob.client.listGroups({})).groups).to.deep.equal([]);
    expect(await rejection(alice.client.deleteGroup({ groupId: 'g.c' }))).to.be.instanceOf(
      GroupAuthorizationFailedError,
    );
    await store.addAcl(acl('alice', 'allow', 'delete', 'group', 'g.c'));
    await agent!.agent.refreshAcls();
    await alice.client.deleteGroup({ groupId: 'g.c' });
    expect(await store.listGroups()).to.deep.equal(['g.1']);
  });

  it('names a call without a certificate ANONYMOUS: denied without an ACL, allowed with one, or with *', async () => {
    await start([
      acl('ANONYMOUS', 'allow', 'produce', 'topic', 'orders.a'),
      acl('*', 'allow', 'consume', 'topic', '*'),
    ]);
    const anonymous = as(undefined);
    expect(await produce(anonymous, 'orders.a', 0, records(1))).to.equal(0);
    const denied = await rejection(produce(anonymous, 'orders.b', 0, records(1)));
    expect((denied as Error).message).to.equal("principal 'ANONYMOUS' may not produce on topic 'orders.b'");
    expect(await readAll(anonymous, 'orders.a', 0)).to.deep.equal([[0, 'v-0']]);
    expect(await readAll(as('bob'), 'orders.a', 0)).to.deep.equal([[0, 'v-0']]);
    expect(await rejection(produce(as('bob'), 'orders.a', 0, records(1)))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
  });

  it('lets a deny beat an allow, whichever is more specific', async () => {
    await start([
      acl('alice', 'allow', 'produce', 'topic', 'orders.a'),
      acl('alice', 'deny', 'produce', 'topic', 'orders.*'),
      acl('*', 'allow', 'produce', 'topic', 'orders.b'),
      acl('bob', 'deny', 'produce', 'topic', 'orders.b'),
    ]);
    expect(await rejection(produce(as('alice'), 'orders.a', 0, records(1)))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    expect(await rejection(produce(as('alice'), 'orders.b', 0, records(1)))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    expect(await rejection(produce(as('bob'), 'orders.b', 0, records(1)))).to.be.instanceOf(
      TopicAuthorizationFailedError,
    );
    expect(await produce(as(undefined), 'orders.b', 0, records(1))).to.equal(0);
  });

  it('lets superusers do anything without ACLs; producer ids need produce somewhere or cluster admin', async () => {
    await start([acl('alice', 'allow', 'produce', 'topic', 'orders.a')], ['root']);
    const root = as('root');
    await root.client.createTopic({ name: 'r', partitions: 1 });
    expect(await produce(root, 'r', 0, records(1))).to.equal(0);
    expect(await readAll(root, 'r', 0)).to.deep.equal([[0, 'v-0']]);
    await root.client.deleteTopic({ name: 'r' });
    expect((await root.client.initProducerId({ producerId: -1, producerEpoch: -1 })).producerId).to.equal(1);
    expect((await as('alice').client.initProducerId({ producerId: -1, producerEpoch: -1 })).producerId).to.equal(2);
    const bob = await rejection(as('bob').client.initProducerId({ producerId: -1, producerEpoch: -1 }));
    expect(bob).to.be.instanceOf(ClusterAuthorizationFailedError);
    expect((bob as Error).message).to.equal("principal 'bob' may not admin on the cluster");
    expect((await as('bob').client.health({})).agentId).to.equal(agent!.agent.agentId);
  });
});
