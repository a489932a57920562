/**
 * Issue 18's tracker numbers (`npm run bench -- tracker [members...] [--size 3G] [--seconds S]`):
 * the real tracker process under simulated members of one hot blob (its piece count is the
 * protocol's for its size: a 3 GiB blob has 1,536 pieces of 2 MiB), each announcing as an agent
 * does while downloading: at the interval the tracker tells it, with its pieces growing between
 * announces, the lease holders reporting the hashes of the pieces they fetch. Members are spread
 * over 250 loopback source addresses (a peer id is bound to its address). Reports announces handled
 * per second against what the members need, latency p50/p99, bytes per answer, tracker egress and
 * peak RSS. The load generator shares the machine's cores with the tracker.
 */
import { randomBytes } from "node:crypto";
import { Client } from "undici";
import { choosePieceSize } from "../../protocol/pieces";
import { parseByteSize } from "../../protocol/units";
import { Teardown } from "../testenv/processes";
import { startTrackerProcess } from "../testenv/tracker";
import { cpuSeconds, MiB, peakRss } from "./measure";
import { BenchResult } from "./result";
import { readFile } from "node:fs/promises";

const SOURCES = 250;
const DEFAULT_MEMBERS = [1_000, 2_600, 10_000];
const TARGET_P99_MS = 100;
const TARGET_EGRESS_MIB_S = 50;

interface Options {
  members: number[];
  size: number;
  seconds: number;
}

interface Member {
  peerId: string;
  source: number;
  have: Buffer;
  held: number;
  hashes: Record<number, string>;
  nextAt: number;
}

function parseArgs(args: string[]): Options {
  const members: number[] = [];
  let size = 3 * 1024 * MiB;
  let seconds = 15;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--size") size = parseByteSize(args[++i] ?? "");
    else if (arg === "--seconds") seconds = Number(args[++i]);
    else if (/^\d+$/.test(arg)) members.push(Number(arg));
    else throw new Error(`tracker bench: unknown argument ${arg}`);
  }
  if (!(size > 0 && seconds > 0)) throw new Error("tracker bench: --size and --seconds must be positive");
  return { members: members.length ? members : DEFAULT_MEMBERS, size, seconds };
}

export async function trackerBench(args: string[]): Promise<BenchResult[]> {
  const options = parseArgs(args);
  const results: BenchResult[] = [];
  for (const count of options.members) results.push(...(await runOnce(count, options)));
  return results;
}

async function runOnce(count: number, options: Options): Promise<BenchResult[]> {
  const teardown = new Teardown();
  try {
    const tracker = await startTrackerProcess(["--log-level", "info", "--max-state-bytes", "1G"]);
    teardown.add(() => tracker.stop());
    const token = (await readFile(tracker.tokenFile, "utf8")).trim();
    const size = options.size;
    const pieceSize = choosePieceSize(size);
    const pieces = Math.ceil(size / pieceSize);
    const digest = "sha256:" + randomBytes(32).toString("hex");
    const clients = Array.from(
      { length: SOURCES },
      (_, i) =>
        new Client(tracker.url, {
          localAddress: sourceAddress(i),
          connections: 4,
          pipelining: 1,
        } as Client.Options),
    );
    teardown.add(() => Promise.all(clients.map(c => c.close())).then(() => undefined));
    const members: Member[] = Array.from({ length: count }, (_, i) => ({
      peerId: `member-${i}`,
      source: i % SOURCES,
      have: Buffer.alloc(Math.ceil(pieces / 8)),
      held: 0,
      hashes: {},
      nextAt: 0,
    }));
    const run = new AnnounceRun(clients, token, digest, size, pieceSize, pieces);
    await run.joinAll(members);
    const cpuBefore = await cpuSeconds(tracker.process.pid);
    const measured = await run.steady(members, options.seconds * 1000);
    const cpu = (await cpuSeconds(tracker.process.pid)) - cpuBefore;
    const rssMiB = (await peakRss(tracker.process.pid)) / MiB;
    return report(count, pieces, measured, cpu, rssMiB);
  } finally {
    await teardown.run();
  }
}

function sourceAddress(i: number): string {
  return `127.0.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
}

interface Measured {
  seconds: number;
  announces: number;
  latenciesMs: number[];
  bytes: number;
  intervalMs: number;
  errors: number;
}

class AnnounceRun {
  private intervalMs = 1_000;

  constructor(
    private readonly clients: Client[],
    private readonly token: string,
    private readonly digest: string,
    private readonly size: number,
    private readonly pieceSize: number,
    private readonly pieces: number,
  ) {}

  /** Every member joins once (not measured), 64 at a time. */
  async joinAll(members: Member[]): Promise<void> {
    for (let i = 0; i < members.length; i += 64)
      await Promise.all(members.slice(i, i + 64).map(m => this.announce(m)));
  }

  /** Each member announces at the tracker's interval for `durationMs`; members' joins are spread. */
  async steady(members: Member[], durationMs: number): Promise<Measured> {
    const started = Date.now();
    const measured: Measured = {
      seconds: 0,
      announces: 0,
      latenciesMs: [],
      bytes: 0,
      intervalMs: 0,
      errors: 0,
    };
    members.forEach((m, i) => (m.nextAt = started + (i * this.intervalMs) / members.length));
    // Every member has the same interval, so members come due in the order they went out: a FIFO.
    const due: Member[] = [...members];
    let head = 0;
    let inFlight = 0;
    await new Promise<void>(resolve => {
      const tick = () => {
        const now = Date.now();
        if (now - started >= durationMs) {
          if (inFlight === 0) return resolve();
          return void setTimeout(tick, 5);
        }
        while (head < due.length && due[head].nextAt <= now && inFlight < 512) {
          const member = due[head++];
          inFlight++;
          const sent = Date.now();
          void this.announce(member)
            .then(bytes => {
              measured.latenciesMs.push(Date.now() - sent);
              measured.bytes += bytes;
              measured.announces++;
            })
            .catch(() => measured.errors++)
            .finally(() => {
              inFlight--;
              member.nextAt = sent + this.intervalMs;
              due.push(member);
            });
        }
        if (head > 100_000) {
          due.splice(0, head);
          head = 0;
        }
        setTimeout(tick, 2);
      };
      tick();
    });
    measured.seconds = (Date.now() - started) / 1000;
    measured.intervalMs = this.intervalMs;
    return measured;
  }

  /** One announce; the member gains a piece first (as a download does), holders report hashes. */
  private async announce(member: Member): Promise<number> {
    this.progress(member);
    const body = JSON.stringify({
      digest: this.digest,
      size: this.size,
      pieceSize: this.pieceSize,
      peerId: member.peerId,
      address: `${sourceAddress(member.source)}:65002`,
      have: member.have.toString("base64"),
      pieceHashes: member.hashes,
      complete: false,
    });
    const client = this.clients[member.source];
    const res = await client.request({
      path: "/v1/announce",
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`announce answered ${res.statusCode}: ${text.slice(0, 200)}`);
    // Only what a member acts on: the generator shares the cores with the tracker, so it reads the
    // interval and the lease out of the answer instead of parsing all of it.
    this.intervalMs = Number(/"downloadIntervalMs":(\d+)/.exec(text)?.[1] ?? this.intervalMs);
    member.hashes = {};
    const lease = /"leases":\[\{"start":(\d+),"end":\d+,"fetchEnd":(\d+)\}/.exec(text);
    if (lease) this.fetchFromOrigin(member, Number(lease[1]), Number(lease[2]));
    return Buffer.byteLength(text);
  }

  /** A random piece from peers (what a download gains between announces). */
  private progress(member: Member): void {
    if (member.held >= this.pieces) return;
    const index = Math.floor(Math.random() * this.pieces);
    if (!(member.have[index >> 3] & (0x80 >> (index & 7)))) {
      member.have[index >> 3] |= 0x80 >> (index & 7);
      member.held++;
    }
  }

  /** A lease holder gets the first committed piece it lacks from the origin and reports its hash. */
  private fetchFromOrigin(member: Member, start: number, end: number): void {
    for (let index = start; index < end; index++) {
      if (member.have[index >> 3] & (0x80 >> (index & 7))) continue;
      member.have[index >> 3] |= 0x80 >> (index & 7);
      member.held++;
      member.hashes[index] = randomBytes(32).toString("hex");
      return;
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function report(count: number, pieces: number, m: Measured, cpu: number, rssMiB: number): BenchResult[] {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  const handled = m.announces / m.seconds;
  const needed = count / (m.intervalMs / 1000);
  const egress = m.bytes / m.seconds / MiB;
  const p99 = percentile(sorted, 99);
  const details = {
    members: count,
    pieces: pieces,
    seconds: m.seconds,
    intervalMs: m.intervalMs,
    announcesHandledPerS: handled,
    announcesNeededPerS: needed,
    p50Ms: percentile(sorted, 50),
    p99Ms: p99,
    bytesPerAnswer: m.announces ? m.bytes / m.announces : 0,
    egressMiBPerS: egress,
    trackerPeakRssMiB: rssMiB,
    trackerCpuSecondsPerS: cpu / m.seconds,
    errors: m.errors,
  };
  return [
    {
      scenario: "tracker",
      metric: `${count} members x ${pieces} pieces: announces handled / needed at the told interval`,
      unit: "ratio",
      value: handled / needed,
      target: ">= 0.95",
      pass: handled / needed >= 0.95 && m.errors === 0,
      details,
    },
    {
      scenario: "tracker",
      metric: `${count} members x ${pieces} pieces: p99 announce latency`,
      unit: "ms",
      value: p99,
      target: `< ${TARGET_P99_MS}`,
      pass: p99 < TARGET_P99_MS,
    },
    {
      scenario: "tracker",
      metric: `${count} members x ${pieces} pieces: tracker egress`,
      unit: "MiB/s",
      value: egress,
      target: `< ${TARGET_EGRESS_MIB_S}`,
      pass: egress < TARGET_EGRESS_MIB_S,
    },
  ];
}
