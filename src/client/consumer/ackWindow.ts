/**
 * Explicit acknowledgement of one partition for one assignment epoch: the
 * offsets delivered since the epoch began, which of them were acknowledged,
 * and from that the committable position (every offset below it delivered
 * and acknowledged). Acknowledgements may come in any order; the position
 * moves only over an unbroken run of acknowledged offsets. Plain synchronous
 * state: the owner is told when the position moves and when the window
 * fills up or has room again.
 *
 * A window ends (`close`) when its partition is revoked, sought or fetched
 * again from its position (a new read); acknowledgements of its records are
 * ignored from then on, since they belong to an old epoch.
 *
 * @internal
 */

/** What an {@link AckWindow} tells its owner. @internal */
export type AckWindowOwner = {
  /** The position moved: records up to `lastOffset` (`count` of them) are acknowledged, with all before them. */
  advanced(window: AckWindow, lastOffset: number, count: number): void;
  /** The window reached its bound (`full` true) or has room again (`full` false). */
  pressure(window: AckWindow, full: boolean): void;
};

/** One partition's delivered-but-not-committable records, for one epoch. @internal */
export class AckWindow {
  /** Delivered offsets, ascending, from `head` on; entries before `head` are spent. */
  private offsets: number[] = [];
  private acked: boolean[] = [];
  private head = 0;
  private isFull = false;
  private isClosed = false;
  /** High watermark of the latest batch delivered. */
  highWatermark = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Records delivered and not yet committable at which the window is full. */
    private readonly bound: number,
    private readonly owner: AckWindowOwner,
  ) {}

  /** Records delivered and not committable yet (unacknowledged, or acknowledged after an unacknowledged one). */
  get size(): number {
    return this.offsets.length - this.head;
  }

  /** Whether the window reached its bound. */
  get full(): boolean {
    return this.isFull;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Notes a record handed to the application; offsets must ascend. Call before handing it over. */
  delivered(offset: number): void {
    if (this.isClosed) return;
    this.offsets.push(offset);
    this.acked.push(false);
  }

  /** Tells the owner when the window reached its bound; call after a batch was delivered. */
  checkBound(): void {
    if (!this.isClosed && !this.isFull && this.size >= this.bound) {
      this.isFull = true;
      this.owner.pressure(this, true);
    }
  }

  /** Acknowledges the record at `offset`; ignored when closed, not delivered, or acknowledged already. */
  ack(offset: number): void {
    if (this.isClosed) return;
    const index = this.indexOf(offset);
    if (index < 0 || this.acked[index]) return;
    this.acked[index] = true;
    if (index === this.head) this.advance();
  }

  /** Acknowledges every delivered record from `first` to `last`, both included. */
  ackRange(first: number, last: number): void {
    if (this.isClosed) return;
    let index = this.indexOf(first);
    if (index < 0) index = this.lowerBound(first);
    let touchedHead = false;
    for (; index < this.offsets.length && this.offsets[index]! <= last; index++) {
      if (index === this.head) touchedHead = true;
      this.acked[index] = true;
    }
    if (touchedHead) this.advance();
  }

  /** Ends the epoch: later acknowledgements are ignored, and a full window releases its partition. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.offsets = [];
    this.acked = [];
    this.head = 0;
  }

  private advance(): void {
    const start = this.head;
    let head = start;
    while (head < this.offsets.length && this.acked[head]) head++;
    if (head === start) return;
    const lastOffset = this.offsets[head - 1]!;
    this.head = head;
    if (head === this.offsets.length) {
      this.offsets = [];
      this.acked = [];
      this.head = 0;
    } else if (head >= 1024 && head * 2 >= this.offsets.length) {
      this.offsets = this.offsets.slice(head);
      this.acked = this.acked.slice(head);
      this.head = 0;
    }
    this.owner.advanced(this, lastOffset, head - start);
    if (this.isFull && !this.isClosed && this.size < this.bound) {
      this.isFull = false;
      this.owner.pressure(this, false);
    }
  }

  /** Index of `offset` among the live entries, or -1. */
  private indexOf(offset: number): number {
    const index = this.lowerBound(offset);
    return index < this.offsets.length && this.offsets[index] === offset ? index : -1;
  }

  /** First live index whose offset is at least `offset`. */
  private lowerBound(offset: number): number {
    let lo = this.head;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
