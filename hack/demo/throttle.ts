/**
 * Pure: a byte budget shared by every stream of a link (GCRA: one "theoretical arrival time" moved
 * forward by each reservation). Streams reserve a chunk before sending it and wait what this says,
 * so concurrent streams interleave and together never exceed the rate beyond one burst.
 */
export class ByteBudget {
  #tatMs = 0;

  constructor(
    readonly bytesPerSecond: number,
    /** How far ahead of the rate a sender may run (an idle link's burst), in milliseconds. */
    readonly burstMs = 20,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError("bytesPerSecond must be positive");
    if (!(burstMs >= 0)) throw new RangeError("burstMs must not be negative");
  }

  /** Reserves `bytes` at `nowMs`; returns how many milliseconds to wait before sending them. */
  reserve(bytes: number, nowMs: number): number {
    this.#tatMs = Math.max(this.#tatMs, nowMs) + (bytes * 1000) / this.bytesPerSecond;
    return Math.max(0, this.#tatMs - nowMs - this.burstMs);
  }
}
