/**
 * A second process on one SQLite metadata file (run by sqliteMetadataStore.spec.ts):
 *   node --import tsx sqliteWorker.ts <path> <agentId> <partition> <commits> <producerIds>
 * Contends for shared/0, commits `commits` segments to shared/<partition>,
 * allocates producer ids, and prints a JSON summary on stdout.
 */
import { NotLeaderError } from '../../../src/protocol/errors.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';

const [path, agentId, partitionText, commitsText, producerIdsText] = process.argv.slice(2);
const partition = Number(partitionText);
const store = new SqliteMetadataStore({ path: path!, synchronous: 'normal', busyTimeoutMs: 10_000 });

let wonContended = false;
try {
  await store.acquireLease('shared', 0, agentId!, 600_000);
  wonContended = true;
} catch (error) {
  if (!(error instanceof NotLeaderError)) throw error;
}

const ids: number[] = [];
const lease = await store.acquireLease('shared', partition, agentId!, 600_000);
let hwm = 0;
for (let i = 0; i < Number(commitsText); i++) {
  const length = 1 + (i % 3);
  const key = `topics/shared/${partition}/${String(hwm).padStart(20, '0')}.seg`;
  hwm = await store.commitSegment({
    topic: 'shared',
    partition,
    epoch: lease.epoch,
    expectedHighWatermark: hwm,
    segment: {
      key,
      baseOffset: hwm,
      endOffset: hwm + length,
      sizeBytes: 10,
      minTimestamp: 0,
      maxTimestamp: 0,
      createdAt: 0,
    },
  });
  // Interleave id allocation with commits so the two processes contend for the write lock throughout.
  if (ids.length < Number(producerIdsText)) ids.push((await store.allocateProducerId()).producerId);
}
while (ids.length < Number(producerIdsText)) ids.push((await store.allocateProducerId()).producerId);
await store.close();
process.stdout.write(JSON.stringify({ wonContended, ids, hwm }));
