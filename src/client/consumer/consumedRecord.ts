/**
 * The consumer's record object. One class, so `ack` lives on the prototype:
 * no closure per record, and one field (`ackWindow`) is all that delivery
 * mode adds to a record.
 *
 * @internal
 */
import type { AckWindow } from './ackWindow.js';
import type { ConsumerRecord } from './consumerTypes.js';

/** @internal */
export class ConsumedRecord<K = Uint8Array, V = Uint8Array> implements ConsumerRecord<K, V> {
  /** @internal The window of the epoch it was delivered in (explicit ack mode); undefined otherwise. */
  ackWindow: AckWindow | undefined = undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly key: K | null,
    readonly value: V | null,
    readonly headers: ConsumerRecord['headers'],
    readonly timestamp: number,
  ) {}

  ack(): void {
    this.ackWindow?.ack(this.offset);
  }
}

/** Ties a record to its window before it is delivered (explicit ack mode). @internal */
export function bindRecord(record: ConsumerRecord<unknown, unknown>, window: AckWindow): void {
  if (record instanceof ConsumedRecord) record.ackWindow = window;
  window.delivered(record.offset);
}

/** Whether the record was tied to a window, that is delivered (explicit ack mode). @internal */
export function isDelivered(record: ConsumerRecord<unknown, unknown>): boolean {
  return record instanceof ConsumedRecord && record.ackWindow !== undefined;
}
