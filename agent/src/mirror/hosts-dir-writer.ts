/**
 * Mirror mode, the I/O half: reads containerd's hosts dir (`/etc/containerd/certs.d`), asks
 * `planHostsDir` what to do, and does it. A file is written to a temp name in its directory,
 * fsynced, then linked into place when there was none (so a file someone else created meanwhile is
 * never replaced) or renamed over the agent's own previous version; containerd never reads half a
 * file. Only files that start with the marker line are ever replaced or removed.
 */
import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import {
  DirState,
  HostsAction,
  HostsDirSnapshot,
  isManagedHostsToml,
  MirrorEntry,
  planHostsDir,
  renderHostsToml,
} from "./hosts-toml";

export interface HostsDirReport {
  written: string[];
  unchanged: string[];
  removed: string[];
  conflicts: { registry: string; path: string; reason: string }[];
}

const HOSTS_FILE = "hosts.toml";
const TEMP_PREFIX = ".hosts.toml.peerpull-";
/** containerd reads these Docker-style files from a host directory that has no hosts.toml. */
const CERT_FILE = /\.(crt|cert|key)$/;
const MAX_HOSTS_FILE_BYTES = 64 * 1024;

/** Brings `root` in line with `entries` (none = remove every file the agent wrote). */
export async function reconcileHostsDir(
  root: string,
  entries: readonly MirrorEntry[],
  agentUrl: string,
): Promise<HostsDirReport> {
  const desired = entries.map(entry => ({
    registry: entry.registry,
    text: renderHostsToml(entry, agentUrl),
  }));
  return applyHostsActions(root, planHostsDir(desired, await snapshotHostsDir(root)));
}

/** Carries out a plan; each write and removal re-checks the file first (the snapshot may be stale). */
export async function applyHostsActions(
  root: string,
  actions: readonly HostsAction[],
): Promise<HostsDirReport> {
  const report: HostsDirReport = { written: [], unchanged: [], removed: [], conflicts: [] };
  for (const action of actions) await apply(root, action, report);
  return report;
}

export async function snapshotHostsDir(root: string): Promise<HostsDirSnapshot> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if (errno(err) === "ENOENT") return { dirs: new Map(), managed: [] };
    throw err;
  }
  const dirs = new Map<string, DirState>();
  const managed: string[] = [];
  for (const entry of entries) {
    const state = await dirState(root, entry);
    dirs.set(entry.name, state);
    if (state.kind === "managed") managed.push(entry.name);
  }
  return { dirs, managed };
}

async function dirState(root: string, entry: Dirent): Promise<DirState> {
  if (!entry.isDirectory())
    return { kind: "foreign", reason: `${entry.name} is not a plain directory (a symlink or a file)` };
  const dir = join(root, entry.name);
  const names = await readdir(dir);
  for (const name of names) if (name.startsWith(TEMP_PREFIX)) await rm(join(dir, name), { force: true }); // a crash's leftover
  if (!names.includes(HOSTS_FILE)) {
    const certs = names.filter(name => CERT_FILE.test(name));
    return certs.length === 0
      ? { kind: "absent" }
      : {
          kind: "foreign",
          reason: `holds ${certs.join(", ")}, which containerd ignores once a hosts.toml exists`,
        };
  }
  return fileState(join(dir, HOSTS_FILE));
}

async function fileState(path: string): Promise<DirState> {
  const info = await lstat(path).catch(err => (errno(err) === "ENOENT" ? undefined : Promise.reject(err)));
  if (!info) return { kind: "absent" };
  if (!info.isFile()) return { kind: "foreign", reason: "hosts.toml is not a regular file" };
  if (info.size > MAX_HOSTS_FILE_BYTES)
    return { kind: "foreign", reason: "hosts.toml not written by peerpull-agent" };
  const text = await readFile(path, "utf8");
  return isManagedHostsToml(text)
    ? { kind: "managed", text }
    : { kind: "foreign", reason: "hosts.toml not written by peerpull-agent" };
}

async function apply(root: string, action: HostsAction, report: HostsDirReport): Promise<void> {
  const path = join(root, action.dir, HOSTS_FILE);
  switch (action.kind) {
    case "unchanged":
      report.unchanged.push(action.registry);
      return;
    case "conflict":
      report.conflicts.push({ registry: action.registry, path, reason: action.reason });
      return;
    case "remove":
      if ((await fileState(path)).kind !== "managed") return; // taken over since the snapshot
      await rm(path, { force: true });
      await rmdir(join(root, action.dir)).catch(() => undefined); // only if now empty
      report.removed.push(action.dir);
      return;
    case "write": {
      const outcome = await writeAtomically(join(root, action.dir), action.text, action.replace);
      if (outcome === "written") report.written.push(action.registry);
      else report.conflicts.push({ registry: action.registry, path, reason: outcome.conflict });
    }
  }
}

async function writeAtomically(
  dir: string,
  text: string,
  replace: boolean,
): Promise<"written" | { conflict: string }> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, HOSTS_FILE);
  const temp = join(dir, TEMP_PREFIX + randomBytes(6).toString("hex"));
  const file = await open(temp, "wx", 0o644);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    if (!replace)
      await link(temp, target); // fails if anyone created hosts.toml since the snapshot
    else if ((await fileState(target)).kind === "managed") await rename(temp, target);
    else return { conflict: "hosts.toml was replaced by someone else while the agent was updating it" };
  } catch (err) {
    if (errno(err) === "EEXIST") return { conflict: "hosts.toml appeared while the agent was writing it" };
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
  await syncDir(dir);
  return "written";
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}
