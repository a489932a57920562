/**
 * The tracker's memory is bounded against a member with the token flooding it: 400 announces, each
 * for a new 2,000-piece blob with every piece hash (the most the protocol's piece size allows; the
 * tracker signs each), under --max-state-bytes 16M keep the real tracker process under 150 MiB RSS
 * (past the budget, 503 TRACKER_FULL); with a tiny budget the state stays within it.
 */
import { randomBytes } from "node:crypto";
import { peakRss } from "../hack/bench/measure";
import { Teardown } from "../hack/testenv/processes";
import { parsePromText } from "../hack/testenv/prom-text";
import { startTrackerProcess, TrackerProcess } from "../hack/testenv/tracker";
import { readFile } from "node:fs/promises";
import { choosePieceSize } from "../protocol/pieces";
import { explained } from "./support/explained";

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const SIZE = 2_000 * MiB;
const teardown = new Teardown();
afterAll(() => teardown.run());

async function tracker(args: string[] = []): Promise<{ process: TrackerProcess; token: string }> {
  const started = await startTrackerProcess(["--log-level", "info", ...args]);
  teardown.add(() => started.stop());
  return { process: started, token: (await readFile(started.tokenFile, "utf8")).trim() };
}

function announceBody(digest: string, peerId: string): string {
  const pieceSize = choosePieceSize(SIZE);
  const pieces = Math.ceil(SIZE / pieceSize);
  const pieceHashes: Record<number, string> = {};
  for (let i = 0; i < pieces; i++) pieceHashes[i] = randomBytes(32).toString("hex");
  const have = Buffer.alloc(Math.ceil(pieces / 8), 0xff);
  if (pieces % 8) have[have.length - 1] = (0xff << (8 - (pieces % 8))) & 0xff;
  return JSON.stringify({
    digest,
    size: SIZE,
    pieceSize,
    peerId,
    address: "127.0.0.1:65002",
    have: have.toString("base64"),
    pieceHashes,
    complete: true,
  });
}

async function flood(t: { process: TrackerProcess; token: string }, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const digest = "sha256:" + randomBytes(32).toString("hex");
    const res = await fetch(`${t.process.url}/v1/announce`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
      body: announceBody(digest, `flood-${i}`),
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

async function stateBytes(t: { process: TrackerProcess }): Promise<number> {
  const text = await (await fetch(`${t.process.url}/metrics`)).text();
  return parsePromText(text).find(s => s.name === "peerpull_tracker_state_bytes")!.value;
}

it("400 announces of 2,000-piece blobs with every hash: the tracker stays under 150 MiB", async () => {
  const t = await tracker(["--max-state-bytes", "16M"]);
  const statuses = await flood(t, 400);
  expect(statuses.filter(s => s === 200).length).toBeGreaterThan(50);
  expect(statuses.filter(s => s !== 200 && s !== 503)).toEqual([]);
  const peak = (await peakRss(t.process.process.pid)) / MiB;
  const state = (await stateBytes(t)) / MiB;
  await explained({ peakRssMiB: Math.round(peak), stateMiB: Math.round(state) }, () =>
    expect(peak).toBeLessThan(150),
  );
});

it("past --max-state-bytes new swarms are refused with 503 TRACKER_FULL, and the state stays within it", async () => {
  const t = await tracker(["--max-state-bytes", "1M"]);
  const statuses = await flood(t, 40);
  expect(statuses.filter(s => s === 200).length).toBeGreaterThanOrEqual(4);
  expect(statuses.slice(-10)).toEqual(Array(10).fill(503));
  expect(await stateBytes(t)).toBeLessThanOrEqual(MiB);
});
