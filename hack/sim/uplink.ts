/**
 * A node's (or the origin's) upload link in the simulation: flows share its rate equally, as TCP
 * flows on a FIFO link roughly do; each flow's completion is rescheduled whenever one starts or
 * ends. Downloads are not limited (as in the netns bench, where only uploads are shaped).
 */
import type { EventQueue } from "./event-queue";

export interface Flow {
  remaining: number;
  done: () => void;
  version: number;
  cancelled: boolean;
}

export class Uplink {
  private readonly flows = new Set<Flow>();
  private lastMs = 0;
  bytesSent = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly bytesPerMs: number,
  ) {}

  get active(): number {
    return this.flows.size;
  }

  start(bytes: number, done: () => void): Flow {
    this.settle();
    const flow: Flow = { remaining: bytes, done, version: 0, cancelled: false };
    this.flows.add(flow);
    this.reschedule();
    return flow;
  }

  cancel(flow: Flow): void {
    if (!this.flows.has(flow)) return;
    this.settle();
    flow.cancelled = true;
    this.flows.delete(flow);
    this.reschedule();
  }

  /** Takes off every flow what it has sent since the last change. */
  private settle(): void {
    const now = this.queue.now;
    if (this.flows.size > 0) {
      const each = ((now - this.lastMs) * this.bytesPerMs) / this.flows.size;
      for (const flow of this.flows) {
        const sent = Math.min(each, flow.remaining);
        flow.remaining -= sent;
        this.bytesSent += sent;
      }
    }
    this.lastMs = now;
  }

  private reschedule(): void {
    const rate = this.bytesPerMs / Math.max(1, this.flows.size);
    for (const flow of this.flows) {
      const version = ++flow.version;
      this.queue.after(flow.remaining / rate, () => {
        if (flow.version !== version || flow.cancelled) return;
        this.settle();
        this.bytesSent += flow.remaining;
        flow.remaining = 0;
        this.flows.delete(flow);
        this.reschedule();
        flow.done();
      });
    }
  }
}
