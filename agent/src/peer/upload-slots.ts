/**
 * How many pieces the peer API sends at once. A request beyond that is turned away at once (503)
 * and the asker tries another holder: measured in the N=10 bench, a line of waiting requests made
 * the herd slower (askers sat in a busy holder's line while idle holders had the piece).
 */
export type Release = () => void;

export class UploadSlots {
  private active = 0;

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError("slots must be a positive integer");
  }

  /** A slot's release function, or undefined when every slot is taken. */
  tryAcquire(): Release | undefined {
    if (this.active >= this.slots) return undefined;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }

  get inUse(): number {
    return this.active;
  }
}
