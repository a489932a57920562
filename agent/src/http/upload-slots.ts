/**
 * How many pieces the peer API sends at once, with a short line of requests waiting for a free slot.
 * A waiting request starts the moment a slot frees, so the upload never idles between pieces; when
 * the line is full the request is turned away at once (503) and the asker tries another holder.
 */
export type Release = () => void;

export class UploadSlots {
  private active = 0;
  private readonly waiting: ((release: Release) => void)[] = [];

  constructor(
    readonly slots: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError("slots must be a positive integer");
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError("maxWaiting must be >= 0");
  }

  /**
   * A slot (resolves with its release), or undefined when every slot is taken and the line is full.
   * `abandoned` ends the wait early (the asker went away); the promise then resolves with a no-op.
   */
  acquire(abandoned?: AbortSignal): Promise<Release> | undefined {
    if (this.active < this.slots) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return undefined;
    return new Promise<Release>(resolve => {
      const waiter = (release: Release) => resolve(release);
      this.waiting.push(waiter);
      abandoned?.addEventListener(
        "abort",
        () => {
          const at = this.waiting.indexOf(waiter);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          resolve(() => undefined);
        },
        { once: true },
      );
    });
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(this.releaser());
      else this.active--;
    };
  }
}
