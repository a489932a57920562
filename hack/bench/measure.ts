/** Small measuring tools for the bench harness: timed downloads, peak RSS, medians. */
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { request } from "undici";

export interface Download {
  seconds: number;
  bytes: number;
  digest?: string;
}

/** GETs `url` and discards the body (optionally hashing it); the same client for every side. */
export async function timedGet(
  url: string,
  opts: { hash?: boolean; headers?: Record<string, string> } = {},
): Promise<Download> {
  const started = process.hrtime.bigint();
  const res = await request(url, { headers: opts.headers, bodyTimeout: 120_000, headersTimeout: 120_000 });
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
  const hash = opts.hash ? createHash("sha256") : undefined;
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    hash?.update(chunk);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes, digest: hash ? "sha256:" + hash.digest("hex") : undefined };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak resident set size of a process (VmHWM), in bytes. */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resets a process's peak RSS to its current RSS (Linux: "5" to /proc/PID/clear_refs). */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, "5");
}

export const MiB = 1024 * 1024;

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export interface CpuBreakdown {
  user: number;
  system: number;
  /** CPU seconds of the main thread and of all other threads (threadpool, GC, compiler). */
  threads: Record<string, number>;
}

/** User and system CPU seconds of a process, and of its main thread and the others, from /proc. */
export async function cpuBreakdown(pid: number): Promise<CpuBreakdown> {
  const fields = async (path: string) => {
    const stat = await readFile(path, "utf8");
    return {
      name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      rest: stat.slice(stat.lastIndexOf(")") + 2).split(" "),
    };
  };
  const own = await fields(`/proc/${pid}/stat`);
  const threads: Record<string, number> = {};
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    try {
      const t = await fields(`/proc/${pid}/task/${tid}/stat`);
      const name = tid === String(pid) ? "main" : "others";
      threads[name] = (threads[name] ?? 0) + (Number(t.rest[11]) + Number(t.rest[12])) / 100;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { user: Number(own.rest[11]) / 100, system: Number(own.rest[12]) / 100, threads };
}

/** `after - before`, field by field. */
export function cpuSpent(before: CpuBreakdown, after: CpuBreakdown): CpuBreakdown {
  const threads: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after.threads))
    threads[name] = Math.round((seconds - (before.threads[name] ?? 0)) * 100) / 100;
  return { user: after.user - before.user, system: after.system - before.system, threads };
}
