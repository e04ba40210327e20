/**
 * Sends one partition's batch to the agent that leads the partition, retrying
 * retriable failures with backoff and re-routing after NOT_LEADER or an
 * unreachable agent, until the records' delivery timeout. With idempotence,
 * the Sequencer stamps each attempt (the same producer fields through every
 * retry, new ones after a move to a new epoch). Never errors: the outcome
 * (base offset or the final error) is a value, so one partition's failure
 * does not stop the others.
 */
import { catchError, concatMap, defer, finalize, map, of, tap, type Observable, type SchedulerLike } from 'rxjs';
import { AckMode, type ProduceRequest } from '../../protocol/generated/streamhouse.js';
import { stampProducerFields, type CompressionCodec } from '../../protocol/codec/recordBatch.js';
import {
  encodeProduceRequest,
  type PreEncoded,
  type ProduceEnvelope,
} from '../../protocol/grpc/produceRequestEncoder.js';
import { DeliveryTimeoutError, NotLeaderError, fromErrorInfo, isRetriable } from '../../protocol/errors.js';
import type { RetryPolicy } from '../retryPolicy.js';
import { fromAbortable } from '../fromAbortable.js';
import { callAgent } from '../cluster/agentCall.js';
import type { ClusterMetadata } from '../cluster/clusterMetadata.js';
import type { AgentTransport } from '../cluster/agentTransport.js';
import type { SequenceAssignment } from './idempotence.js';
import { isSequenceRefusal, type SequencedBatch, type Sequencer } from './sequencer.js';
import { retryUntilDeliveryTimeout } from './retryUntilDeliveryTimeout.js';
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
  /** The request `message` encodes, as handed to the client, until the batch is settled. */
  request?: PreEncoded<ProduceRequest> | undefined;
  /** The producer fields `request` carries. */
  encodedWith?: SequenceAssignment | undefined;
} & SequencedBatch;

/** What became of a job. */
export type JobOutcome =
  | { job: ProduceJob; ok: true; baseOffset: number }
  | { job: ProduceJob; ok: false; error: unknown };

export type BatchSenderOptions = {
  cluster: ClusterMetadata;
  pool: AgentTransport;
  /** Stamps idempotent batches; undefined without idempotence. */
  sequencer: Sequencer | undefined;
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

const ACK_MODES: Record<Acks, AckMode> = {
  durable: AckMode.ACK_MODE_DURABLE,
  buffered: AckMode.ACK_MODE_BUFFERED,
  none: AckMode.ACK_MODE_NONE,
};

export class BatchSender {
  constructor(private readonly options: BatchSenderOptions) {}

  send(job: ProduceJob): Observable<JobOutcome> {
    const { scheduler, deliveryTimeoutMs, sequencer } = this.options;
    const remaining = Math.max(0, job.batch.firstSentAt + deliveryTimeoutMs - scheduler.now());
    let joined = false;
    return defer(() => {
      if (sequencer === undefined) return this.attempt(job, undefined);
      if (!joined) {
        joined = true;
        sequencer.join(job);
      }
      return sequencer.stamp(job).pipe(concatMap((sequence) => this.attempt(job, sequence)));
    }).pipe(
      retryUntilDeliveryTimeout({
        policy: this.options.retry,
        timeoutMs: remaining,
        scheduler,
        // A refusal for the producer fields is retried too: the sequencer re-stamps the batch or waits for earlier
        // ones.
        isRetriable: (error) => isRetriable(error) || (sequencer !== undefined && isSequenceRefusal(error)),
        onRetry: ({ error }) => {
          this.reroute(job, error);
          this.options.onRetry(job, error);
        },
        timeoutError: (lastError) => deliveryTimeout(job, deliveryTimeoutMs, lastError),
      }),
      map((baseOffset): JobOutcome => ({ job, ok: true, baseOffset })),
      catchError((error: unknown) => {
        sequencer?.gaveUp(job);
        return of<JobOutcome>({ job, ok: false, error });
      }),
      finalize(() => sequencer?.leave(job)),
    );
  }

  /** One request for the job, carrying `sequence`. */
  private attempt(job: ProduceJob, sequence: SequenceAssignment | undefined): Observable<number> {
    const request = this.requestFor(job, sequence);
    job.attempts++;
    const sequencer = this.options.sequencer;
    if (sequencer === undefined) return this.produceOnce(job, request);
    sequencer.sending(job);
    return this.produceOnce(job, request).pipe(tap({ error: (error: unknown) => sequencer.failed(job, error) }));
  }

  /**
   * The job's Produce request with `sequence`: encoded from its records at
   * the first attempt; a retry sends the same bytes (the agent recognises a
   * duplicate by them), or a copy re-stamped with new producer fields.
   */
  private requestFor(job: ProduceJob, sequence: SequenceAssignment | undefined): PreEncoded<ProduceRequest> {
    if (job.request === undefined) {
      this.encode(job, sequence);
    } else if (sequence !== job.encodedWith && sequence !== undefined) {
      const { request, message, batch } = encodeProduceRequest(this.envelope(job, sequence), job.encodedBatch!, {});
      stampProducerFields(batch, sequence);
      job.request = request;
      job.message = message;
      job.encodedBatch = batch;
      job.encodedWith = sequence;
    }
    return job.request!;
  }

  private envelope(job: ProduceJob, sequence: SequenceAssignment | undefined): ProduceEnvelope {
    return {
      acks: ACK_MODES[this.options.acks],
      producerId: sequence?.producerId ?? -1,
      producerEpoch: sequence?.producerEpoch ?? -1,
      timeoutMs: this.options.requestTimeoutMs,
      topic: job.topic,
      partition: job.partition,
    };
  }

  /** Encodes the job's records into its request, into a buffer of the request pool. */
  private encode(job: ProduceJob, sequence: SequenceAssignment | undefined): void {
    try {
      const { requestBuffers } = this.options;
      const { request, message, batch } = encodeProduceRequest(
        this.envelope(job, sequence),
        job.batch.records,
        { compression: this.options.compression, ...(sequence ?? {}) },
        (minimum) => requestBuffers.take(minimum),
      );
      job.request = request;
      job.encodedBatch = batch;
      job.message = message;
      job.encodedWith = sequence;
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
    job.request = undefined;
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
   * again (callAgent has already dropped an agent that could not be reached
   * from routing, and its connection).
   */
  private reroute(job: ProduceJob, error: unknown): void {
    if (error instanceof NotLeaderError) this.options.cluster.forgetLeader(job.topic, job.partition);
    if (isRetriable(error)) void this.options.cluster.refresh().catch(() => undefined);
  }
}

/** The error of a batch not acknowledged within the delivery timeout; `cause` is the last failure retried. */
function deliveryTimeout(job: ProduceJob, deliveryTimeoutMs: number, lastError: unknown): DeliveryTimeoutError {
  const after = job.attempts === 1 ? '1 attempt' : `${job.attempts} attempts`;
  const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  return new DeliveryTimeoutError(
    `records for ${job.key} not acknowledged within the delivery timeout of ${deliveryTimeoutMs} ms (${after}${last})`,
    {
      context: { topic: job.topic, partition: job.partition },
      ...(lastError === undefined ? {} : { cause: lastError }),
    },
  );
}
