/**
 * Sends one partition's batch to the agent that leads the partition, retrying
 * retriable failures with backoff and re-routing after NOT_LEADER or an
 * unreachable agent, within the records' delivery timeout. Never errors: the
 * outcome (base offset or the final error) is a value, so one partition's
 * failure does not stop the others.
 */
import { catchError, defer, finalize, map, of, type Observable, type SchedulerLike } from 'rxjs';
import { AckMode, type ProduceRequest } from '../../protocol/generated/streamhouse.js';
import type { CompressionCodec } from '../../protocol/recordBatch.js';
import { encodeProduceRequest, type PreEncoded } from '../../protocol/produceRequestEncoder.js';
import {
  AgentUnavailableError,
  DeliveryTimeoutError,
  NotLeaderError,
  OutOfOrderSequenceError,
  RequestTimedOutError,
  RetriesExhaustedError,
  StreamHouseError,
  fromErrorInfo,
  isRetriable,
} from '../../protocol/errors.js';
import type { RetryPolicy } from '../retryPolicy.js';
import { retryUntilDeliveryTimeout } from './retryUntilDeliveryTimeout.js';
import { fromAbortable } from '../fromAbortable.js';
import { callAgent } from '../cluster/agentCall.js';
import type { ClusterMetadata } from '../cluster/clusterMetadata.js';
import type { ConnectionPool } from '../cluster/connectionPool.js';
import type { ProducerIdentity, SequenceAssignment } from './idempotence.js';
import type { ProducerBatch } from './producerBatch.js';
import type { RequestBufferPool } from './requestBufferPool.js';
import type { Acks } from './producerOptions.js';

/** One batch of one partition on its way. */
export type ProduceJob = {
  topic: string;
  partition: number;
  /** `${topic}/${partition}`. */
  key: string;
  /** The records, encoded as they were added, and their outcome. */
  batch: ProducerBatch;
  /** Records in the batch. */
  count: number;
  /** Sum of the records' estimated sizes (what they count against the buffer). */
  bytes: number;
  /** The RecordBatch as sent (a view into the request), once encoded. */
  encodedBatch?: Uint8Array;
  /** The encoded request (a buffer of the request pool), once encoded, until the batch is settled. */
  message?: Buffer;
  /** Requests made for this batch so far. */
  attempts: number;
};

/** What became of a job. */
export type JobOutcome = { job: ProduceJob; ok: true; baseOffset: number } | { job: ProduceJob; ok: false; error: unknown };

export type BatchSenderOptions = {
  cluster: ClusterMetadata;
  pool: ConnectionPool;
  identity: ProducerIdentity | undefined;
  acks: Acks;
  compression: CompressionCodec;
  retry: RetryPolicy;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  scheduler: SchedulerLike;
  /** Where encoded requests are written, and given back by {@link BatchSender.releaseRequest}. */
  requestBuffers: RequestBufferPool;
  /** Called before each retry (for metrics). */
  onRetry: (job: ProduceJob, error: unknown) => void;
};

const ACK_MODES: Record<Acks, AckMode> = { durable: AckMode.ACK_MODE_DURABLE, buffered: AckMode.ACK_MODE_BUFFERED, none: AckMode.ACK_MODE_NONE };

export class BatchSender {
  /** Jobs of each partition between their first attempt and their outcome, oldest first. */
  private readonly inFlight = new Map<string, ProduceJob[]>();

  constructor(private readonly options: BatchSenderOptions) {}

  send(job: ProduceJob): Observable<JobOutcome> {
    const { scheduler, deliveryTimeoutMs } = this.options;
    let encoded: { request: PreEncoded<ProduceRequest>; sequence: SequenceAssignment | undefined } | undefined;
    const remaining = Math.max(0, job.batch.firstSentAt + deliveryTimeoutMs - scheduler.now());
    return defer(() => {
      if (encoded === undefined) {
        encoded = this.encode(job);
        this.inFlight.set(job.key, [...(this.inFlight.get(job.key) ?? []), job]);
      }
      job.attempts++;
      return this.produceOnce(job, encoded.request);
    }).pipe(
      retryUntilDeliveryTimeout({
        policy: this.options.retry,
        timeoutMs: remaining,
        scheduler,
        isRetriable: (error) => isRetriable(error) || (error instanceof OutOfOrderSequenceError && this.hasEarlier(job)),
        onRetry: ({ error }) => {
          this.reroute(job, error);
          this.options.onRetry(job, error);
        },
        timeoutError: (lastError) => deliveryTimeout(job, deliveryTimeoutMs, lastError),
      }),
      map((baseOffset): JobOutcome => ({ job, ok: true, baseOffset })),
      catchError((error: unknown) => this.settleFailure(job, encoded?.sequence, error)),
      finalize(() => this.leave(job)),
    );
  }

  /**
   * Whether an earlier batch of the same partition is still unsettled: then
   * an OUT_OF_ORDER_SEQUENCE answer only means this one overtook it (the
   * earlier one is being retried), and retrying this one is right.
   */
  private hasEarlier(job: ProduceJob): boolean {
    const lane = this.inFlight.get(job.key);
    return lane !== undefined && lane[0] !== job && lane.includes(job);
  }

  private leave(job: ProduceJob): void {
    const lane = this.inFlight.get(job.key);
    if (lane === undefined) return;
    const rest = lane.filter((j) => j !== job);
    if (rest.length === 0) this.inFlight.delete(job.key);
    else this.inFlight.set(job.key, rest);
  }

  /**
   * The job's Produce request, encoded once with its sequence numbers: a
   * retry sends the same bytes (the agent recognises a duplicate by them).
   */
  private encode(job: ProduceJob): { request: PreEncoded<ProduceRequest>; sequence: SequenceAssignment | undefined } {
    const sequence = this.options.identity?.assign(job.key, job.count);
    const envelope = {
      acks: ACK_MODES[this.options.acks],
      producerId: sequence?.producerId ?? -1,
      producerEpoch: sequence?.producerEpoch ?? -1,
      timeoutMs: this.options.requestTimeoutMs,
      topic: job.topic,
      partition: job.partition,
    };
    try {
      const { requestBuffers } = this.options;
      const { request, message, batch } = encodeProduceRequest(
        envelope,
        job.batch.records,
        { compression: this.options.compression, ...(sequence ?? {}) },
        (minimum) => requestBuffers.take(minimum),
      );
      job.encodedBatch = batch;
      job.message = message;
      return { request, sequence };
    } catch (error) {
      // Never sent: the partition's next batch takes these sequence numbers, or the agent would see a gap.
      if (sequence !== undefined) this.options.identity?.rollBack(job.key, sequence, job.count);
      throw error;
    } finally {
      // Retries resend the encoded request; the records' builder can take the next batch.
      job.batch.recordsEncoded();
    }
  }

  /**
   * Once the job's batch is settled: lets go of its request, and gives the
   * buffer back for later requests when `reuse` (the batch succeeded and
   * nothing handed out views of it) and it went out once: an answer means
   * grpc-js has copied it into its frame, and it never reads it again. A
   * buffer that went out more than once, or whose call was given up on, is
   * left to the garbage collector: a cancelled attempt may not have been
   * copied yet.
   */
  releaseRequest(job: ProduceJob, reuse: boolean): void {
    if (reuse && job.attempts === 1 && job.message !== undefined) this.options.requestBuffers.give(job.message);
    job.message = undefined;
    job.encodedBatch = undefined;
  }

  private produceOnce(job: ProduceJob, request: PreEncoded<ProduceRequest>): Observable<number> {
    const address = this.options.cluster.addressFor(job.topic, job.partition);
    const context = { topic: job.topic, partition: job.partition };
    return fromAbortable(async (signal) => {
      const { results } = await callAgent(
        this.options,
        address,
        `produce for ${job.key}`,
        this.options.requestTimeoutMs,
        signal,
        (client, callSignal) => client.produce(request, { signal: callSignal }),
        context,
      );
      const error = fromErrorInfo(results[0]?.error, context);
      if (error !== undefined) throw error;
      return results[0]!.baseOffset;
    });
  }

  /**
   * Before a retry: after NOT_LEADER forget the route, and ask the cluster
   * again (callAgent has already dropped the connection to an agent that
   * could not be reached: the one the request went to).
   */
  private reroute(job: ProduceJob, error: unknown): void {
    if (error instanceof NotLeaderError) this.options.cluster.forgetLeader(job.topic, job.partition);
    if (isRetriable(error)) void this.options.cluster.refresh().catch(() => undefined);
  }

  private settleFailure(job: ProduceJob, sequence: SequenceAssignment | undefined, error: unknown): Observable<JobOutcome> {
    const identity = this.options.identity;
    const last = error instanceof RetriesExhaustedError ? error.cause : error;
    const outcome = of<JobOutcome>({ job, ok: false, error });
    if (identity === undefined || sequence === undefined) return outcome;
    const answered = last instanceof StreamHouseError && !(last instanceof RequestTimedOutError) && !(last instanceof AgentUnavailableError) &&
      !(last instanceof DeliveryTimeoutError);
    if (answered) {
      identity.rollBack(job.key, sequence, job.count);
      return outcome;
    }
    // The agent may or may not have appended it: only a new epoch makes later sequences unambiguous.
    return defer(() => identity.reset()).pipe(
      map((): JobOutcome => ({ job, ok: false, error })),
      catchError(() => outcome),
    );
  }
}

/** The error of a batch not acknowledged within the delivery timeout; `cause` is the last failure retried. */
function deliveryTimeout(job: ProduceJob, deliveryTimeoutMs: number, lastError: unknown): DeliveryTimeoutError {
  const after = job.attempts === 1 ? '1 attempt' : `${job.attempts} attempts`;
  const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  return new DeliveryTimeoutError(`records for ${job.key} not acknowledged within the delivery timeout of ${deliveryTimeoutMs} ms (${after}${last})`, {
    context: { topic: job.topic, partition: job.partition },
    ...(lastError === undefined ? {} : { cause: lastError }),
  });
}
