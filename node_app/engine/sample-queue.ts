/**
 * A stretch of one channel addressed by absolute sample index: samples are appended at the end and dropped
 * from the front, so a stream can keep just the part that later work still reads.
 */
export class SampleQueue {
  private buffer: Float32Array;
  private head = 0;
  /** Absolute index of the oldest sample held. */
  private first = 0;
  private count = 0;

  constructor(capacity = 1 << 16) {
    this.buffer = new Float32Array(Math.max(1, capacity));
  }

  /**
   * The backing array and the offset to add to an absolute index to address it; valid until the next append.
   * Hot loops index it directly rather than calling a method per sample.
   */
  view(): { data: Float32Array; offset: number } {
    return { data: this.buffer, offset: this.head - this.first };
  }

  append(values: Float32Array): void {
    if (this.head + this.count + values.length > this.buffer.length) {
      const needed = this.count + values.length;
      if (needed <= this.buffer.length / 2) {
        this.buffer.copyWithin(0, this.head, this.head + this.count);
      } else {
        const grown = new Float32Array(Math.max(needed, this.buffer.length) * 2);
        grown.set(this.buffer.subarray(this.head, this.head + this.count));
        this.buffer = grown;
      }
      this.head = 0;
    }
    this.buffer.set(values, this.head + this.count);
    this.count += values.length;
  }

  /** [from, to) without copying, valid until the next append; both are absolute indices inside what is held. */
  range(from: number, to: number): Float32Array {
    const offset = this.head - this.first;
    return this.buffer.subarray(from + offset, to + offset);
  }

  dropBefore(position: number): void {
    const drop = Math.min(this.count, Math.max(0, position - this.first));
    this.head += drop;
    this.first += drop;
    this.count -= drop;
  }
}
