/**
 * The idempotent producer's identity: its producer id and epoch (from the
 * agents' InitProducerId) and each partition's next sequence under them.
 *
 * When a sequence may be lost (a batch failed without knowing whether it was
 * appended, or an agent no longer follows the producer's sequence), the
 * producer moves to a new epoch: {@link ProducerIdentity.requireBump}. Until
 * it has one, no sequence is handed out; {@link ProducerIdentity.ready} runs
 * the bump, retried with backoff for as long as someone waits on it, and
 * every partition starts again at sequence 0 under the new epoch. Which
 * batch gets which sequence, in which order, is the Sequencer's business.
 */
import { Subject, defer, map, of, share, take, type Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import { InvalidProducerEpochError, InvalidRequestError, UnknownProducerIdError } from '../../protocol/errors.js';
import { retryWithBackoff, type RetryEvent, type RetryPolicy } from '../retryPolicy.js';
import { callAgent, type AgentCallContext } from '../cluster/agentCall.js';

/** A producer id and one of its epochs. */
export type ProducerIdAndEpoch = { producerId: number; producerEpoch: number };

/** Sequence fields written into a batch header. */
export type SequenceAssignment = { producerId: number; producerEpoch: number; baseSequence: number };

export type ProducerIdentityOptions = {
  /** Asks the cluster for the next epoch of `producerId`, or a new id (see {@link initProducerId}). */
  bump: (producerId: number) => ObservableInput<ProducerIdAndEpoch>;
  /** Backoff between failed bumps (and how many: see ProducerOptions.retry). */
  retry: RetryPolicy;
  scheduler: SchedulerLike;
  /** Randomness for the backoff's jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Called before each retry of a failed bump. */
  onBumpRetry?: (event: RetryEvent) => void;
};

const INT32_MAX = 0x7fffffff;

export class ProducerIdentity {
  private producerId: number;
  private epoch: number;
  private bumpNeeded = false;
  /** Next sequence of each partition under the current id and epoch. */
  private readonly partitions = new Map<string, number>();
  /** The bump under way, shared by everyone waiting; cancelled when nobody waits any more. */
  private readonly bump$: Observable<void>;
  private readonly bumped = new Subject<ProducerIdAndEpoch>();

  constructor(first: ProducerIdAndEpoch, options: ProducerIdentityOptions) {
    this.producerId = first.producerId;
    this.epoch = first.producerEpoch;
    const { bump, retry, scheduler, random, onBumpRetry } = options;
    this.bump$ = defer(() => bump(this.producerId)).pipe(
      retryWithBackoff(retry, { scheduler, random, onRetry: onBumpRetry }),
      map((next) => this.adopt(next)),
      share(),
    );
  }

  get id(): number {
    return this.producerId;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** Whether a new epoch must be had before any sequence is handed out. */
  get needsBump(): boolean {
    return this.bumpNeeded;
  }

  /** Each new epoch (or id) once in force. */
  get bumped$(): Observable<ProducerIdAndEpoch> {
    return this.bumped.asObservable();
  }

  /** Whether `assigned` was handed out under the current id and epoch (a pending bump aside). */
  sameEpoch(assigned: SequenceAssignment): boolean {
    return assigned.producerId === this.producerId && assigned.producerEpoch === this.epoch;
  }

  /** Whether `assigned` may still be sent as it is: of the current epoch, and no bump pending. */
  isCurrent(assigned: SequenceAssignment): boolean {
    return !this.bumpNeeded && this.sameEpoch(assigned);
  }

  /** A sequence may be lost: move to a new epoch before handing out more. */
  requireBump(): void {
    this.bumpNeeded = true;
  }

  /**
   * Emits once and completes when no bump is needed: at once, or when the
   * bump (started, or joined when under way) succeeds. Fails with the bump's
   * error when it is not retriable or its retries ran out; then a bump is
   * still needed and the next call tries again.
   */
  ready(): Observable<void> {
    return defer(() => (this.bumpNeeded ? this.bump$.pipe(take(1)) : of(undefined)));
  }

  /**
   * Takes `count` sequences on a partition, under the current epoch.
   * @throws InvalidRequestError when a bump is pending or `count` < 1.
   */
  assign(topicPartition: string, count: number): SequenceAssignment {
    if (count <= 0) throw new InvalidRequestError(`a batch needs records, got ${count}`);
    if (this.bumpNeeded)
      throw new InvalidRequestError(`no sequence for ${topicPartition} until the producer has a new epoch`);
    const baseSequence = this.partitions.get(topicPartition) ?? 0;
    this.partitions.set(topicPartition, (baseSequence + count) % (INT32_MAX + 1));
    return { producerId: this.producerId, producerEpoch: this.epoch, baseSequence };
  }

  /**
   * The agent refused the batch without appending it, and it was the last assigned: the next batch takes its
   * sequences.
   */
  rollBack(topicPartition: string, assigned: SequenceAssignment, count: number): void {
    if (!this.sameEpoch(assigned)) return;
    if (this.partitions.get(topicPartition) === (assigned.baseSequence + count) % (INT32_MAX + 1))
      this.partitions.set(topicPartition, assigned.baseSequence);
  }

  private adopt(next: ProducerIdAndEpoch): void {
    this.producerId = next.producerId;
    this.epoch = next.producerEpoch;
    this.bumpNeeded = false;
    this.partitions.clear();
    this.bumped.next({ ...next });
  }
}

/**
 * A new epoch of `producerId`, or a new producer id for -1 and when the
 * cluster no longer knows this one or its epochs are used up
 * (UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH). One call to one agent
 * (a reachable one), within `timeoutMs`.
 */
export async function initProducerId(
  context: AgentCallContext,
  producerId: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProducerIdAndEpoch> {
  const call = async (id: number): Promise<ProducerIdAndEpoch> => {
    const response = await callAgent(
      context,
      context.cluster.anyAddress(),
      'init producer id',
      timeoutMs,
      signal,
      (client, callSignal) => client.initProducerId({ producerId: id, producerEpoch: -1 }, { signal: callSignal }),
    );
    return { producerId: response.producerId, producerEpoch: response.producerEpoch };
  };
  try {
    return await call(producerId);
  } catch (error) {
    if (producerId >= 0 && (error instanceof UnknownProducerIdError || error instanceof InvalidProducerEpochError))
      return call(-1);
    throw error;
  }
}
