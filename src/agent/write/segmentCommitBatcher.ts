/**
 * Batches segment registrations: the commits the agent's partition writers
 * ask for in the same turn of the event loop go to the metadata store as one
 * `commitSegments` call (one SQLite transaction and fsync for all of them).
 * Each commit is still checked and fenced on its own (see
 * MetadataStore.commitSegments), and a writer's flush waits for its own
 * outcome, so nothing is acknowledged before its segment is registered.
 */
import type { CommitSegmentRequest, MetadataStore } from '../../metadata/metadataStore.js';

type Waiting = {
  request: CommitSegmentRequest;
  resolve: (highWatermark: number) => void;
  reject: (error: unknown) => void;
};

export class SegmentCommitBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** Calls of the store so far, and the commits they carried (for tests and metrics). */
  readonly stats = { calls: 0, commits: 0 };

  constructor(private readonly store: MetadataStore) {}

  /** Registers a segment like `store.commitSegment`, together with the other commits asked for in this turn. */
  commit(request: CommitSegmentRequest): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O callbacks of this turn: object puts that finished meanwhile join the group.
        setImmediate(() => void this.commitWaiting());
      }
    });
  }

  private async commitWaiting(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    this.stats.calls++;
    this.stats.commits += group.length;
    try {
      const outcomes = await this.store.commitSegments(group.map((w) => w.request));
      group.forEach((waiting, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) waiting.resolve(outcome.highWatermark);
        else waiting.reject(outcome.error);
      });
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }
}
