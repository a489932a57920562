/**
 * When passes run. Pepr's Reconcile queue runs a callback once and drops its error, so this keeps its
 * own schedule: a pass on every request (requests during a pass coalesce into one more pass), a retry
 * with exponential backoff after a failed pass, and a resync every `resyncMs` so drift is corrected
 * (a deleted DaemonSet comes back).
 */
import { errorText } from "./cluster";
import { PassResult, ReconcileLog } from "./reconcile";

export interface ControllerOptions {
  /** One reconcile pass; `retryInSeconds` is when the next try comes if this one fails. */
  pass: (retryInSeconds: number) => Promise<PassResult>;
  log: ReconcileLog;
  resyncMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** 0..1, for jitter; injectable so tests are exact. */
  random?: () => number;
}

export const DEFAULTS = { resyncMs: 300_000, initialBackoffMs: 1_000, maxBackoffMs: 300_000 };

/** Pure: the delay before retry number `attempt` (1-based): doubling, capped, +-20% jitter. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.8 + 0.4 * random));
}

export class ReconcileController {
  #running: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #last: PassResult | undefined;
  readonly #opts: Required<Omit<ControllerOptions, "random">> & { random: () => number };

  constructor(opts: ControllerOptions) {
    this.#opts = { ...DEFAULTS, random: Math.random, ...opts };
  }

  /** Periodic resync; call once in the watcher process. */
  start(): void {
    this.#stopped = false;
    this.#resyncTimer = setInterval(() => void this.request("resync"), this.#opts.resyncMs);
    this.#resyncTimer.unref?.();
    void this.request("start");
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#retryTimer);
  }

  /** Resolves when a pass that started after this call has finished (failures are retried, not thrown). */
  request(reason: string): Promise<void> {
    if (this.#running) {
      // the running loop sees this and makes one more pass before it resolves
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop(reason).finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** What the last pass that returned reported (a pass that threw leaves it as it was). */
  get lastResult(): PassResult | undefined {
    return this.#last;
  }

  /** How many passes in a row have failed (0 after a good one). */
  get failures(): number {
    return this.#failures;
  }

  async #loop(reason: string): Promise<void> {
    do {
      this.#again = false;
      await this.#once(reason);
      reason = "changed during a pass";
    } while (this.#again && !this.#stopped);
  }

  async #once(reason: string): Promise<void> {
    clearTimeout(this.#retryTimer);
    const nextDelay = this.#delay(this.#failures + 1);
    let retry: boolean;
    try {
      this.#last = await this.#opts.pass(Math.round(nextDelay / 1000));
      retry = this.#last.retry;
    } catch (err) {
      this.#opts.log.warn({ reason, err: errorText(err) }, "reconcile pass failed");
      retry = true;
    }
    if (!retry) {
      this.#failures = 0;
      return;
    }
    this.#failures += 1;
    if (this.#stopped) return;
    this.#opts.log.info(
      { reason, attempt: this.#failures, retryInMs: nextDelay },
      "reconcile retry scheduled",
    );
    this.#retryTimer = setTimeout(() => void this.request("retry"), nextDelay);
    this.#retryTimer.unref?.();
  }

  #delay(attempt: number): number {
    return backoffMs(attempt, this.#opts.initialBackoffMs, this.#opts.maxBackoffMs, this.#opts.random());
  }
}
