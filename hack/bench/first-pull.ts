/**
 * The `cold` scenarios' shared parts: one side's first pull of a blob (the agent or distribution's
 * pull-through cache), timed to the client's last byte and to the blob being stored, and the result
 * lines both scenarios print.
 *
 * The two moments differ because the sides do different work before the client's last byte:
 * distribution 2.8's proxy copies the origin's body straight to the client (no digest check on that
 * stream) and stores the blob from a second, concurrent origin fetch in the background, while the
 * agent fetches once and hashes and writes what it sends, holding the last byte until the digest
 * matches.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { BlobServed, LogMark } from "../testenv/registry";
import { waitFor } from "../testenv/processes";
import { cpuSeconds, median } from "./measure";
import { BenchResult } from "./result";

export interface FirstPull {
  /** Until the client had the last byte. */
  seconds: number;
  /** Until the blob was in the side's storage under its final name. */
  cachedSeconds: number;
  /** CPU seconds the side used until the client's last byte, and until the blob was stored. */
  cpu: number;
  cpuCached: number;
  /** Body bytes the origin served during the pull (both of the cache's fetches, for example). */
  originBytes: number;
}

/** A process that caches what it serves: its pid, and the file the blob ends up in. */
export interface StoringSide {
  pid: number;
  storedFile: string;
}

/** The origin registry's access log, for the bytes it served. */
export interface OriginLog {
  mark(): Promise<LogMark>;
  blobGets(since?: LogMark): Promise<Map<string, BlobServed>>;
}

/** Where distribution's filesystem driver puts a blob once its upload's digest checked out. */
export function distributionBlobFile(storageDir: string, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return join(storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

/** Where the agent's disk cache puts a blob once committed. */
export function agentBlobFile(cacheDir: string, digest: string): string {
  return join(cacheDir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Runs `get` (the client's whole download, returning its seconds) and waits for `side` to store the blob. */
export async function firstPull(
  side: StoringSide,
  size: number,
  origin: OriginLog,
  get: () => Promise<number>,
): Promise<FirstPull> {
  const mark = await origin.mark();
  const cpuBefore = await cpuSeconds(side.pid);
  const started = process.hrtime.bigint();
  const seconds = await get();
  const cpu = (await cpuSeconds(side.pid)) - cpuBefore;
  await waitFor(
    `${side.storedFile} stored`,
    async () => ((await stat(side.storedFile).catch(() => undefined))?.size === size ? true : undefined),
    { timeoutMs: 300_000, intervalMs: 10 },
  );
  const cachedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuCached = (await cpuSeconds(side.pid)) - cpuBefore;
  let originBytes = 0;
  for (const served of (await origin.blobGets(mark)).values()) originBytes += served.bytes;
  return { seconds, cachedSeconds, cpu, cpuCached, originBytes };
}

/** Seconds per round of each side: the registry directly, the warm agent, and both first pulls. */
export interface ColdRounds {
  direct: number[];
  warm: number[];
  cache: FirstPull[];
  agent: FirstPull[];
}

/** The result lines of a cold scenario: agent against the cache (three ways) and against direct. */
export function coldResults(scenario: string, what: string, size: number, r: ColdRounds): BenchResult[] {
  const column = (side: "cache" | "agent", field: keyof FirstPull) => r[side].map(pull => pull[field]);
  const details = {
    rounds: r.direct.length,
    direct: r.direct,
    cache: column("cache", "seconds"),
    cold: column("agent", "seconds"),
    warm: r.warm,
    cachedSeconds: { agent: column("agent", "cachedSeconds"), cache: column("cache", "cachedSeconds") },
    cpuAtLastByte: { agent: column("agent", "cpu"), cache: column("cache", "cpu") },
    cpuUntilCached: { agent: column("agent", "cpuCached"), cache: column("cache", "cpuCached") },
    originBytesPerBlob: {
      agent: column("agent", "originBytes").map(bytes => bytes / size),
      cache: column("cache", "originBytes").map(bytes => bytes / size),
    },
  };
  const line = (
    metric: string,
    unit: string,
    value: number,
    baseline: number,
    bound: number,
    stretch = false,
  ) => ({
    scenario,
    metric,
    unit,
    value,
    baseline,
    ratio: value / baseline,
    target: `<= ${bound}${stretch ? " (stretch)" : ""}`,
    ...(stretch ? {} : { pass: value / baseline <= bound }),
    details,
  });
  const cold = median(details.cold);
  const direct = median(r.direct);
  const vsCache = "agent vs distribution pull-through cache (both empty)";
  return [
    line(`first pull of ${what}, client's last byte, ${vsCache}`, "s", cold, median(details.cache), 1.0),
    line(
      `first pull of ${what}, until the blob is stored, ${vsCache}`,
      "s",
      median(details.cachedSeconds.agent),
      median(details.cachedSeconds.cache),
      1.0,
    ),
    line(
      `first pull of ${what}, origin bytes / blob size, ${vsCache}`,
      "blobs",
      median(details.originBytesPerBlob.agent),
      median(details.originBytesPerBlob.cache),
      1.0,
    ),
    line(`first pull of ${what}, agent (miss, streamed) vs registry direct`, "s", cold, direct, 1.5, true),
    line(`second pull of ${what}, agent (cached) vs registry direct`, "s", median(r.warm), direct, 1.0),
  ];
}
