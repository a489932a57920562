/**
 * How many pieces the peer API sends at once, and never the same piece twice at once. A request
 * beyond the slots, or for a piece already on its way to another asker, is turned away at once
 * (503) and the asker tries another holder:
 * - a line of waiting requests made the N=10 bench slower (askers sat in a busy holder's line while
 *   idle holders had the piece);
 * - a piece only this node has (a lease holder's newest) is what every asker wants first (rarest
 *   first). Sent to four askers at once, the only source's upload carried copies they could have
 *   taken from each other: in the netns bench one holder uploaded 2.5 copies of a 50 MiB blob and
 *   every other node waited on its link. One copy at a time, its upload carries distinct pieces and
 *   the first receiver is a second source within a piece time.
 */
export type Release = () => void;

export class UploadSlots {
  private readonly sending = new Set<string>();

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError("slots must be a positive integer");
  }

  /** A slot for `piece` (any key naming one piece of one blob), or undefined when it must wait. */
  tryAcquire(piece: string): Release | undefined {
    if (this.sending.size >= this.slots || this.sending.has(piece)) return undefined;
    this.sending.add(piece);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sending.delete(piece);
    };
  }

  get inUse(): number {
    return this.sending.size;
  }
}
