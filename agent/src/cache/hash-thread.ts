/**
 * A worker thread that computes blobs' SHA-256, so the hash of a fill runs beside the event loop
 * that receives and sends its bytes, not in its path. One thread serves every writer of a store;
 * a writer hands it whole runs of bytes in order, moving the memory there and back (transfer, no
 * copy), and asks for the digest at the end.
 *
 * The thread's code is plain JavaScript in a string (run with `eval`), so the agent stays one
 * bundled file; it only needs node:crypto and node:worker_threads.
 */
import { Worker } from "node:worker_threads";

const THREAD_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", m => {
  if (m.op === "run") {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash("sha256")));
    hash.update(new Uint8Array(m.memory, 0, m.length));
    return void parentPort.postMessage({ op: "run", id: m.id, memory: m.memory }, [m.memory]);
  }
  const hash = hashes.get(m.id) || createHash("sha256");
  hashes.delete(m.id);
  if (m.op === "end") parentPort.postMessage({ op: "digest", id: m.id, hex: hash.digest("hex") });
});
`;

export interface HashStreamEvents {
  /** The thread has hashed a run and hands its memory back (runs come back in the order sent). */
  hashed(memory: ArrayBuffer): void;
  digest(hex: string): void;
  /** The thread died: no run or digest will come back. */
  failed(error: Error): void;
}

type Reply = { op: "run"; id: number; memory: ArrayBuffer } | { op: "digest"; id: number; hex: string };

export interface HashStream {
  /** Hashes the first `length` bytes of `memory`, which moves to the thread until hashed() returns it. */
  hash(memory: ArrayBuffer, length: number): void;
  /** No more runs: the digest of everything sent follows. */
  end(): void;
  /** Forgets the stream; nothing more comes back for it. */
  drop(): void;
}

export class HashThread {
  private worker?: Worker;
  private readonly streams = new Map<number, HashStreamEvents>();
  private nextId = 1;

  open(events: HashStreamEvents): HashStream {
    const id = this.nextId++;
    this.streams.set(id, events);
    return {
      hash: (memory, length) => this.thread().postMessage({ op: "run", id, memory, length }, [memory]),
      end: () => this.thread().postMessage({ op: "end", id }),
      drop: () => {
        this.streams.delete(id);
        this.worker?.postMessage({ op: "drop", id });
      },
    };
  }

  /** Ends the thread; open streams fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true });
    worker.on("message", (reply: Reply) => this.dispatch(reply));
    worker.on("error", err => this.failAll(worker, err));
    worker.on("exit", () => this.failAll(worker, new Error("the hashing thread exited")));
    // The thread never keeps the agent alive. After the listeners: adding a 'message' listener
    // refs the worker again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private dispatch(reply: Reply): void {
    const events = this.streams.get(reply.id);
    if (!events) return;
    if (reply.op === "run") return events.hashed(reply.memory);
    this.streams.delete(reply.id);
    events.digest(reply.hex);
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const events of streams) events.failed(error);
  }
}
