// skopeo as a pull client: copy an image from a registry (directly or through the agent) into a
// `dir:` directory and report what arrived, verified by hashing every file.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./processes";
import type { Credentials } from "./registry";

export interface CopyOptions {
  creds?: Credentials;
  /** Default false: loopback registries speak plain HTTP. */
  tlsVerify?: boolean;
  /** Copy every platform of an index (skopeo --all). */
  all?: boolean;
  timeoutMs?: number;
}

export interface PulledFile {
  /** File name inside the dir (skopeo names blobs by their hex digest). */
  name: string;
  size: number;
  /** sha256 of the file's bytes. */
  sha256: string;
}

export interface PulledDir {
  dir: string;
  /** sha256 of manifest.json: the digest of the (top) manifest as served. */
  manifestDigest: string;
  manifest: Buffer;
  /** Blob files whose sha256 matches their name, by digest ("sha256:…") → size. */
  blobs: Map<string, number>;
  /** Every file in the dir. */
  files: PulledFile[];
}

/**
 * `skopeo copy docker://REF dir:DIR`. `ref` is HOST/REPO:TAG or HOST/REPO@DIGEST (a leading
 * docker:// is accepted). Throws if skopeo fails or if a blob file does not hash to its name.
 */
export async function skopeoCopyToDir(ref: string, dir: string, opts: CopyOptions = {}): Promise<PulledDir> {
  const src = ref.startsWith("docker://") ? ref : `docker://${ref}`;
  const args = ["copy", "--retry-times", "0", `--src-tls-verify=${opts.tlsVerify ?? false}`];
  if (opts.creds) args.push("--src-creds", `${opts.creds.user}:${opts.creds.password}`);
  if (opts.all) args.push("--all");
  args.push(src, `dir:${dir}`);
  await run("skopeo", args, { timeoutMs: opts.timeoutMs ?? 120_000 });
  return readPulledDir(dir);
}

/** Hashes every file of a skopeo `dir:` directory; with `verify`, a blob must hash to its name. */
export async function readPulledDir(dir: string, verify = true): Promise<PulledDir> {
  const names = (await readdir(dir)).sort();
  const files: PulledFile[] = [];
  const blobs = new Map<string, number>();
  for (const name of names) {
    const path = join(dir, name);
    const st = await stat(path);
    if (!st.isFile()) continue;
    const sha256 = await hashFile(path);
    files.push({ name, size: st.size, sha256 });
    if (/^[0-9a-f]{64}$/.test(name)) {
      if (verify && sha256 !== name) throw new Error(`pulled blob ${name} hashes to ${sha256}`);
      blobs.set(`sha256:${name}`, st.size);
    }
  }
  const manifest = await readFile(join(dir, "manifest.json"));
  return {
    dir,
    manifestDigest: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
    manifest,
    blobs,
    files,
  };
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", chunk => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export interface DirComparison {
  equal: boolean;
  /** One line per difference: a file missing on one side or differing in bytes. */
  differences: string[];
}

/** Compares two pulled dirs file by file (names, sizes, sha256 of the bytes). */
export async function compareDirs(a: string, b: string): Promise<DirComparison> {
  const [left, right] = await Promise.all([readPulledDir(a, false), readPulledDir(b, false)]);
  const byName = (files: PulledFile[]) => new Map(files.map(f => [f.name, f]));
  const l = byName(left.files);
  const r = byName(right.files);
  const differences: string[] = [];
  for (const [name, f] of l) {
    const g = r.get(name);
    if (!g) differences.push(`${name}: only in ${a}`);
    else if (f.size !== g.size || f.sha256 !== g.sha256)
      differences.push(`${name}: ${f.size} bytes sha256:${f.sha256} vs ${g.size} bytes sha256:${g.sha256}`);
  }
  for (const name of r.keys()) if (!l.has(name)) differences.push(`${name}: only in ${b}`);
  return { equal: differences.length === 0, differences };
}
