/**
 * The idempotent producer's identity (producer id + epoch from the agents'
 * InitProducerId) and its per-partition sequence numbers.
 *
 * A batch takes its sequence when it is first sent and keeps it through every
 * retry, so the agent can recognise a retry and answer with the original
 * offsets. When a batch fails for good:
 * - with an answer from the agent (it did not append), the partition's next
 *   sequence goes back to that batch's, as if it had never been sent;
 * - without one (timeout, agent unreachable), nobody knows whether it was
 *   appended, so the producer asks for a new epoch and every partition starts
 *   again at sequence 0 under it when its next batch is sent.
 */
import { InvalidRequestError } from '../../protocol/errors.js';

/** Sequence fields written into a batch header. */
export type SequenceAssignment = { producerId: number; producerEpoch: number; baseSequence: number };

type PartitionSequence = { epoch: number; next: number };

const INT32_MAX = 0x7fffffff;

export class ProducerIdentity {
  private readonly partitions = new Map<string, PartitionSequence>();
  private bumping: Promise<void> | undefined;

  constructor(
    private producerId: number,
    private epoch: number,
    /** Asks the cluster for the next epoch of this producer id. */
    private readonly bump: (producerId: number) => Promise<{ producerId: number; producerEpoch: number }>,
  ) {}

  get id(): number {
    return this.producerId;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** Takes `count` sequences on a partition for a batch being sent for the first time. */
  assign(partitionKey: string, count: number): SequenceAssignment {
    if (count <= 0) throw new InvalidRequestError(`a batch needs records, got ${count}`);
    let state = this.partitions.get(partitionKey);
    if (state === undefined || state.epoch !== this.epoch) {
      state = { epoch: this.epoch, next: 0 };
      this.partitions.set(partitionKey, state);
    }
    const baseSequence = state.next;
    state.next = (state.next + count) % (INT32_MAX + 1);
    return { producerId: this.producerId, producerEpoch: this.epoch, baseSequence };
  }

  /** The agent refused the batch: its sequences may be reused by the next batch. */
  rollBack(partitionKey: string, assigned: SequenceAssignment, count: number): void {
    const state = this.partitions.get(partitionKey);
    if (state === undefined || state.epoch !== assigned.producerEpoch) return;
    if (state.next === (assigned.baseSequence + count) % (INT32_MAX + 1)) state.next = assigned.baseSequence;
  }

  /** Outcome unknown: move to a new epoch (once, however many batches ask at the same time). */
  async reset(): Promise<void> {
    this.bumping ??= this.bump(this.producerId)
      .then((next) => {
        this.producerId = next.producerId;
        this.epoch = next.producerEpoch;
      })
      .finally(() => (this.bumping = undefined));
    await this.bumping;
  }
}
