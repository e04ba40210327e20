/**
 * Self-fencing: an agent answers nothing once its lease may have expired by
 * its own clock. In process, with a clock that jumps past the lease (a pause
 * it slept through); and across processes, with an agent stopped by SIGSTOP
 * past its lease while another takes its partitions over.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { NotLeaderError } from '../../src/protocol/errors.js';
import { connectAgent, type AgentConnection } from '../../src/client/agentClient.js';
import {
  REDIS_URL,
  createTestStores,
  deleteRedisPrefix,
  expected,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

const here = dirname(fileURLToPath(import.meta.url));
const { ACK_MODE_DURABLE: DURABLE, ACK_MODE_BUFFERED: BUFFERED, ACK_MODE_NONE: NONE } = AckMode;

describe('self-fencing: an agent whose lease may have expired by its own clock', () => {
  let stores: TestStores;
  let agent: TestAgent | undefined;
  /** How far the agent's clock runs ahead of real time: a jump is a pause it slept through. */
  let skew: number;
  const clock = () => Date.now() + skew;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    skew = 0;
  });
  afterEach(async () => {
    await agent?.stop();
    await stores.cleanup();
  });

  it('acknowledges nothing after the jump in any ack mode, then leases the partition under a new epoch', async () => {
    // A long lease, renewed every 20 s: within this test only the produce itself can notice a jump.
    agent = await startTestAgent(stores, {
      agentId: 'agent-a',
      clock,
      walDir: join(stores.dir, 'wal'),
      leaseTtlMs: 60_000,
    });
    const { connection } = agent;
    /** Waits until the partition has committed `offset` records, so no flush is pending at the next jump. */
    const committed = async (offset: number) => {
      const deadline = Date.now() + 5000;
      while ((await agent!.metadataStore.getPartition('orders', 0)).highWatermark < offset && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    expect(await produce(connection, 'orders', 0, records(2, 'd0'), DURABLE)).to.equal(0);
    expect(await produce(connection, 'orders', 0, records(2, 'b0'), BUFFERED)).to.equal(2);
    expect(await produce(connection, 'orders', 0, records(1, 'n0'), NONE)).to.equal(-1);
    expect(await produce(connection, 'orders', 0, records(1, 'd1'), DURABLE)).to.equal(5);

    const log = [...expected(0, 2, 'd0'), ...expected(2, 2, 'b0'), ...expected(4, 1, 'n0'), ...expected(5, 1, 'd1')];
    let epoch = 1;
    for (const [mode, name] of [
      [DURABLE, 'durable'],
      [BUFFERED, 'buffered'],
      [NONE, 'none'],
    ] as const) {
      skew += 120_000;
      const refused = await rejection(produce(connection, 'orders', 0, records(1, `refused-${name}`), mode));
      expect(refused, name).to.be.instanceOf(NotLeaderError);
      expect((refused as Error).message).to.equal(
        `lease epoch ${epoch} of orders/0 is no longer held or may have expired; lease it again`,
      );
      // The next request leases the partition again (a new epoch) and carries on from the store's state.
      const next = log.length;
      expect(await produce(connection, 'orders', 0, records(1, name), mode)).to.equal(mode === NONE ? -1 : next);
      log.push(...expected(next, 1, name));
      await committed(log.length);
      epoch++;
      expect((await agent.metadataStore.getPartition('orders', 0)).leaseEpoch).to.equal(epoch);
    }
    expect(await produce(connection, 'orders', 0, records(1, 'last'), DURABLE)).to.equal(log.length);
    log.push(...expected(log.length, 1, 'last'));
    expect(await readAll(connection, 'orders', 0)).to.deep.equal(log);
  });

  it('fails a durable append waiting for its flush once the lease may have expired, writing nothing', async () => {
    agent = await startTestAgent(stores, {
      agentId: 'agent-a',
      clock,
      leaseTtlMs: 2000,
      flushIntervalMs: 60_000,
      flushBytes: 1 << 30,
    });
    const { connection } = agent;
    await connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    expect(await produce(connection, 'orders', 0, records(1, 'none'), NONE)).to.equal(-1); // leases the partition
    const waiting = rejection(produce(connection, 'orders', 0, records(2, 'waiting'), DURABLE));
    await new Promise((r) => setTimeout(r, 200)); // in the writer by now, waiting for a flush a minute away
    skew += 10_000;
    // The lease manager's next renewal round (every TTL / 3) finds the lease expired and stops the writer.
    expect(await waiting).to.be.instanceOf(NotLeaderError);
    expect((await agent.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(0);
    expect(await stores.objectStore.list('topics/')).to.deep.equal([]);
  });
});

/** One `streamhouse serve` child process. */
type ServeProcess = { child: ChildProcess; address: string; connection: AgentConnection; stderr: () => string };

/** Starts `streamhouse serve` as a child process and waits until it listens. */
async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--no-kafka', '--http-port', '0', ...args],
    {
      cwd: join(here, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  return { child, address, connection: connectAgent(address), stderr: () => stderr };
}

type Ack = { partition: number; base: number; count: number; prefix: string };
type Attempt = { ok: true; ack: Ack } | { ok: false; error: unknown };

/** Produces one batch of `count` records `<prefix>-i`; the ack, or the error. */
async function attempt(
  connection: AgentConnection,
  partition: number,
  prefix: string,
  count: number,
  acks: AckMode,
): Promise<Attempt> {
  try {
    const base = await produce(connection, 'orders', partition, records(count, prefix), acks);
    return { ok: true, ack: { partition, base, count, prefix } };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('self-fencing across processes: an agent paused past its lease (SIGSTOP)', function () {
  this.timeout(30_000);
  let dir: string;
  const prefix = `sh-test:${process.pid}:${randomUUID().slice(0, 8)}:`;
  let a: ServeProcess;
  let b: ServeProcess;

  const serve = (agentId: string) =>
    startServe([
      '--port',
      '0',
      '--data-dir',
      dir,
      '--metadata',
      REDIS_URL,
      '--redis-prefix',
      prefix,
      '--agent-id',
      agentId,
      '--lease-ttl-ms',
      '2000',
      '--flush-interval-ms',
      '300',
      '--maintenance-interval-ms',
      '0',
      '--log-level',
      'warn',
    ]);

  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'sh-fencing-'));
    // One data directory: one object store and one write-ahead log root (<dir>/wal/<agent id>/) for both.
    [a, b] = await Promise.all([serve('agent-a'), serve('agent-b')]);
  });
  after(async () => {
    for (const p of [a, b]) {
      p?.connection.close();
      p?.child.kill('SIGCONT');
      p?.child.kill('SIGKILL');
    }
    await deleteRedisPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('never acknowledges a record that is not then readable at its offset, exactly once', async () => {
    await a.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
    const acks: Ack[] = [];
    const expectAck = (result: Attempt, what: string): void => {
      if (!result.ok) throw new Error(`${what} failed: ${String(result.error)}\n${a.stderr()}`);
      acks.push(result.ack);
    };
    for (const partition of [0, 1]) {
      expectAck(await attempt(a.connection, partition, `a-durable-${partition}`, 3, DURABLE), 'durable produce to A');
      expectAck(
        await attempt(a.connection, partition, `a-buffered-${partition}`, 2, BUFFERED),
        'buffered produce to A',
      );
    }
    // Buffered acks in A's log, not yet in a segment (its flush waits 300 ms) when it stops.
    const lastBuffered = await Promise.all([0, 1].map((p) => attempt(a.connection, p, `a-pending-${p}`, 2, BUFFERED)));
    a.child.kill('SIGSTOP');
    for (const [p, r] of lastBuffered.entries()) expectAck(r, `buffered produce to A on ${p}`);

    // B takes both partitions over once A's lease has expired, replaying A's log, and writes on.
    for (const partition of [0, 1]) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const taken = await attempt(b.connection, partition, `b-first-${partition}`, 2, DURABLE);
        if (taken.ok) {
          acks.push(taken.ack);
          break;
        }
        if (!(taken.error instanceof NotLeaderError) || Date.now() > deadline) throw taken.error;
        await new Promise((r) => setTimeout(r, 100));
      }
      expectAck(
        await attempt(b.connection, partition, `b-buffered-${partition}`, 3, BUFFERED),
        'buffered produce to B',
      );
      expectAck(await attempt(b.connection, partition, `b-durable-${partition}`, 1, DURABLE), 'durable produce to B');
    }

    // Requests wait in A's socket while it is stopped, and run the moment it resumes.
    const late = [0, 1].flatMap((p) => [
      attempt(a.connection, p, `a-late-buffered-${p}`, 2, BUFFERED),
      attempt(a.connection, p, `a-late-durable-${p}`, 2, DURABLE),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    a.child.kill('SIGCONT');
    const lateResults = await Promise.all(late);
    const again = await Promise.all([0, 1].map((p) => attempt(a.connection, p, `a-again-${p}`, 1, BUFFERED)));
    for (const result of [...lateResults, ...again]) {
      if (result.ok) acks.push(result.ack);
      else expect(result.error, String(result.error)).to.be.instanceOf(NotLeaderError);
    }
    expect(lateResults.filter((r) => r.ok)).to.deep.equal([]);

    for (const partition of [0, 1]) {
      const stored = await readAll(b.connection, 'orders', partition);
      expect(stored.map(([offset]) => offset)).to.deep.equal(stored.map((_, i) => i)); // dense from 0
      for (const ack of acks.filter((x) => x.partition === partition)) {
        expect(stored.slice(ack.base, ack.base + ack.count), `${ack.prefix} at ${ack.base}`).to.deep.equal(
          expected(ack.base, ack.count, ack.prefix),
        );
        expect(
          stored.filter(([, value]) => value.startsWith(`${ack.prefix}-`)).length,
          `${ack.prefix} stored once`,
        ).to.equal(ack.count);
      }
    }
  });
});
