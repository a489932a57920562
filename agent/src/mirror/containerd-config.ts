/**
 * Does containerd's CRI plugin read the hosts dir the agent writes to? Only when its
 * `registry.config_path` lists that directory; otherwise kubelet's pulls ignore every hosts.toml
 * (`ctr --hosts-dir` still works, which makes this easy to miss). The agent cannot see that from
 * the directory, so, given containerd's config.toml, it says so plainly at start.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parse } from "smol-toml";

export type ConfigPathCheck = { ok: true; configPath: string[] } | { ok: false; problem: string };

/** Where config_path lives, per config version (3: containerd 2.x; 2: 1.x; 1: the oldest 1.x files). */
const REGISTRY_TABLES = [
  ["plugins", "io.containerd.cri.v1.images", "registry"],
  ["plugins", "io.containerd.grpc.v1.cri", "registry"],
  ["plugins", "cri", "registry"],
] as const;

export interface ContainerdConfigDoc {
  path: string;
  text: string;
}

/**
 * Pure: the main config.toml and its imports, in order (a later file overrides an earlier one), and
 * the directory the agent writes to, as containerd sees it.
 */
export function checkContainerdConfig(
  docs: readonly ContainerdConfigDoc[],
  hostsDir: string,
): ConfigPathCheck {
  let found: { path: string; value: unknown } | undefined;
  for (const doc of docs) {
    let parsed: Record<string, unknown>;
    try {
      parsed = parse(doc.text) as Record<string, unknown>;
    } catch (err) {
      return {
        ok: false,
        problem: `${doc.path} is not valid TOML: ${(err as Error).message.split("\n")[0]}`,
      };
    }
    for (const table of REGISTRY_TABLES) {
      const registry = dig(parsed, table);
      if (registry && "config_path" in registry) found = { path: doc.path, value: registry.config_path };
    }
  }
  const main = docs[0]?.path ?? "config.toml";
  if (!found || typeof found.value !== "string" || found.value === "")
    return {
      ok: false,
      problem:
        `containerd's CRI plugin does not read ${hostsDir}: registry config_path is not set in ${main}. ` +
        `Kubelet pulls will not go through the agent. Set config_path = "${hostsDir}" under ` +
        `[plugins."io.containerd.grpc.v1.cri".registry] (containerd 1.x; ` +
        `[plugins."io.containerd.cri.v1.images".registry] on 2.x) and restart containerd.`,
    };
  const configPath = found.value.split(":").filter(Boolean);
  const wanted = normalize(hostsDir);
  if (!configPath.some(dir => normalize(dir) === wanted))
    return {
      ok: false,
      problem:
        `containerd's CRI plugin reads hosts.toml files from ${found.value} (config_path in ${found.path}), ` +
        `not from ${hostsDir}: kubelet pulls will not go through the agent.`,
    };
  return { ok: true, configPath };
}

/** Reads config.toml and the files its top-level `imports` name (a `*` in the file name is expanded). */
export async function readContainerdConfig(path: string): Promise<ContainerdConfigDoc[]> {
  const text = await readFile(path, "utf8");
  const docs = [{ path, text }];
  let imports: unknown;
  try {
    imports = (parse(text) as { imports?: unknown }).imports;
  } catch {
    return docs; // the check reports the parse error
  }
  if (!Array.isArray(imports)) return docs;
  for (const pattern of imports.filter((item): item is string => typeof item === "string")) {
    for (const file of await expand(resolve(dirname(path), pattern)))
      docs.push({ path: file, text: await readFile(file, "utf8") });
  }
  return docs;
}

async function expand(pattern: string): Promise<string[]> {
  const name = basename(pattern);
  if (!name.includes("*")) return [pattern];
  const dir = dirname(pattern);
  const re = new RegExp(`^${name.split("*").map(escapeRegExp).join(".*")}$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter(entry => re.test(entry))
    .sort()
    .map(entry => join(dir, entry));
}

function dig(doc: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = doc;
  for (const key of keys) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === "object" && node !== null ? (node as Record<string, unknown>) : undefined;
}

function normalize(dir: string): string {
  return resolve(dir).replace(/\/+$/, "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
