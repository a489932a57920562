/**
 * Mirror mode (DESIGN 2.1, 3.3), the pure half: what containerd's `hosts.toml` for one accelerated
 * registry says, how the agent recognises the files it wrote, and what to do with the hosts dir given
 * what is in it now. The agent is listed first (pull, resolve; plain http on loopback) and the
 * registry itself is `server`, so containerd falls back to it when the agent answers 404 or cannot
 * be reached. A file without the marker line belongs to someone else and is never touched.
 */

/** First line of every hosts.toml the agent writes; a file that does not start with it is not ours. */
export const MANAGED_MARKER = "# managed-by: peerpull-agent";

export interface MirrorEntry {
  /** The registry as images name it (`--upstream` host), e.g. `registry.example.com`, `docker.io`. */
  registry: string;
  /** Where containerd falls back to: the upstream's origin, e.g. `https://registry-1.docker.io`. */
  server: string;
}

/**
 * The directory containerd reads for `registry`: the registry name itself (`docker.io`,
 * `host:5000`). containerd 1.6+ first looks for `host_5000_` for a host with a port, so that
 * spelling is checked for conflicts (see `shadowingDirName`).
 */
export function hostsDirName(registry: string): string {
  return registry.toLowerCase();
}

/** containerd's alternate directory name for `host:port` (`host_port_`), read before `host:port`. */
export function shadowingDirName(registry: string): string | undefined {
  const colon = registry.lastIndexOf(":");
  return colon > 0 ? `${registry.slice(0, colon)}_${registry.slice(colon + 1)}_`.toLowerCase() : undefined;
}

/** The agent's registry API as containerd must reach it: an unspecified bind address means loopback. */
export function agentMirrorUrl(address: { host: string; port: number }): string {
  let host = address.host;
  if (host === "0.0.0.0" || host === "") host = "127.0.0.1";
  if (host === "::" || host === "::0") host = "::1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

export function renderHostsToml(entry: MirrorEntry, agentUrl: string): string {
  return [
    MANAGED_MARKER,
    `# Pulls of ${entry.registry} try this node's peerpull agent first and fall back to the registry`,
    "# (server) when the agent answers 404 or cannot be reached. The agent rewrites this file, and",
    `# removes it when ${entry.registry} leaves its config; it never touches a hosts.toml without the`,
    "# first line above: delete that line to take this file over.",
    `server = ${tomlString(entry.server)}`,
    "",
    `[host.${tomlString(agentUrl)}]`,
    '  capabilities = ["pull", "resolve"]',
    "",
  ].join("\n");
}

export function isManagedHostsToml(text: string): boolean {
  return text.split("\n", 1)[0].trimEnd() === MANAGED_MARKER;
}

/** What the writer found for one directory of the hosts dir. */
export type DirState =
  /** No directory, or a directory with no hosts.toml and nothing containerd would read instead. */
  | { kind: "absent" }
  | { kind: "managed"; text: string }
  /** Someone else's: their hosts.toml, certificate files, a symlink, a non-directory... */
  | { kind: "foreign"; reason: string };

export interface HostsDirSnapshot {
  /** By directory name, for every desired registry's directory and its shadowing spelling. */
  dirs: ReadonlyMap<string, DirState>;
  /** Directory names that hold a hosts.toml this agent wrote (any registry, configured or not). */
  managed: readonly string[];
}

export type HostsAction =
  | { kind: "write"; registry: string; dir: string; text: string; replace: boolean }
  | { kind: "unchanged"; registry: string; dir: string }
  | { kind: "conflict"; registry: string; dir: string; reason: string }
  | { kind: "remove"; dir: string };

/**
 * Desired entries + what is on disk → what to do. Every configured registry gets a write (new or
 * changed), unchanged, or conflict; every managed file whose directory no configured registry uses
 * is removed. An empty `desired` list therefore removes every file the agent wrote.
 */
export function planHostsDir(
  desired: readonly { registry: string; text: string }[],
  snapshot: HostsDirSnapshot,
): HostsAction[] {
  const actions: HostsAction[] = [];
  const wanted = new Set<string>();
  for (const { registry, text } of desired) {
    const dir = hostsDirName(registry);
    wanted.add(dir);
    const shadow = shadowingDirName(registry);
    const shadowState = shadow === undefined ? undefined : snapshot.dirs.get(shadow);
    if (shadow !== undefined && shadowState !== undefined && shadowState.kind !== "absent") {
      actions.push({
        kind: "conflict",
        registry,
        dir,
        reason: `containerd reads ${shadow}/ before ${dir}/ and it exists`,
      });
      continue;
    }
    const state = snapshot.dirs.get(dir) ?? { kind: "absent" };
    if (state.kind === "foreign") actions.push({ kind: "conflict", registry, dir, reason: state.reason });
    else if (state.kind === "managed" && state.text === text)
      actions.push({ kind: "unchanged", registry, dir });
    else actions.push({ kind: "write", registry, dir, text, replace: state.kind === "managed" });
  }
  for (const dir of snapshot.managed) if (!wanted.has(dir)) actions.push({ kind: "remove", dir });
  return actions;
}

/** A TOML basic string (JSON's escapes are a subset of TOML's for these ASCII URLs and names). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}
