import { parse } from "smol-toml";
import {
  agentMirrorUrl,
  DirState,
  hostsDirName,
  isManagedHostsToml,
  MANAGED_MARKER,
  planHostsDir,
  renderHostsToml,
  shadowingDirName,
} from "./hosts-toml";

const AGENT = "http://127.0.0.1:65001";

describe("renderHostsToml", () => {
  const rows = [
    {
      name: "docker.io falls back to registry-1.docker.io",
      entry: { registry: "docker.io", server: "https://registry-1.docker.io" },
    },
    {
      name: "a private registry over https",
      entry: { registry: "registry.example.com", server: "https://registry.example.com" },
    },
    {
      name: "an origin override (plain http, with a port)",
      entry: { registry: "registry.test", server: "http://10.0.0.1:5000" },
    },
  ];
  it.each(rows)("$name: agent first (pull, resolve), registry as server", ({ entry }) => {
    const text = renderHostsToml(entry, AGENT);
    expect(text.split("\n")[0]).toBe(MANAGED_MARKER);
    // What containerd's parser reads: the server, then each [host."…"] table in file order.
    const doc = parse(text) as { server: string; host: Record<string, { capabilities: string[] }> };
    expect(doc.server).toBe(entry.server);
    expect(Object.keys(doc.host)).toEqual([AGENT]);
    expect(doc.host[AGENT].capabilities).toEqual(["pull", "resolve"]);
    expect(isManagedHostsToml(text)).toBe(true);
  });
});

describe("isManagedHostsToml", () => {
  const rows = [
    { name: "the marker line", text: `${MANAGED_MARKER}\nserver = "x"\n`, want: true },
    { name: "marker with CRLF", text: `${MANAGED_MARKER}\r\nserver = "x"\r\n`, want: true },
    { name: "an operator's file", text: 'server = "https://r.io"\n', want: false },
    { name: "marker not on the first line", text: `# mine\n${MANAGED_MARKER}\n`, want: false },
    { name: "a prefix of the marker", text: "# managed-by: peerpull\n", want: false },
    { name: "empty", text: "", want: false },
  ];
  it.each(rows)("$name", ({ text, want }) => expect(isManagedHostsToml(text)).toBe(want));
});

describe("directory names and the agent URL", () => {
  const dirRows = [
    { name: "plain host", registry: "registry.example.com", dir: "registry.example.com", shadow: undefined },
    { name: "docker.io", registry: "docker.io", dir: "docker.io", shadow: undefined },
    { name: "host with port", registry: "reg.test:5000", dir: "reg.test:5000", shadow: "reg.test_5000_" },
  ];
  it.each(dirRows)("$name", ({ registry, dir, shadow }) => {
    expect(hostsDirName(registry)).toBe(dir);
    expect(shadowingDirName(registry)).toBe(shadow);
  });

  const urlRows = [
    { name: "loopback", address: { host: "127.0.0.1", port: 65001 }, url: "http://127.0.0.1:65001" },
    { name: "any IPv4 means loopback", address: { host: "0.0.0.0", port: 5 }, url: "http://127.0.0.1:5" },
    { name: "any IPv6 means loopback", address: { host: "::", port: 5 }, url: "http://[::1]:5" },
    { name: "an IPv6 address", address: { host: "fd00::1", port: 5 }, url: "http://[fd00::1]:5" },
    { name: "a node address", address: { host: "10.0.0.7", port: 65001 }, url: "http://10.0.0.7:65001" },
  ];
  it.each(urlRows)("$name", ({ address, url }) => expect(agentMirrorUrl(address)).toBe(url));
});

describe("planHostsDir", () => {
  const text = (registry: string) => renderHostsToml({ registry, server: `https://${registry}` }, AGENT);
  const snapshot = (dirs: Record<string, DirState>) => ({
    dirs: new Map(Object.entries(dirs)),
    managed: Object.entries(dirs)
      .filter(([, state]) => state.kind === "managed")
      .map(([dir]) => dir),
  });
  const rows = [
    {
      name: "a new registry is written",
      desired: ["a.io"],
      dirs: {},
      want: [{ kind: "write", registry: "a.io", dir: "a.io", replace: false }],
    },
    {
      name: "an up-to-date file is left as it is",
      desired: ["a.io"],
      dirs: { "a.io": { kind: "managed", text: text("a.io") } },
      want: [{ kind: "unchanged", registry: "a.io", dir: "a.io" }],
    },
    {
      name: "a stale managed file is replaced",
      desired: ["a.io"],
      dirs: { "a.io": { kind: "managed", text: `${MANAGED_MARKER}\nold\n` } },
      want: [{ kind: "write", registry: "a.io", dir: "a.io", replace: true }],
    },
    {
      name: "a foreign file is a conflict",
      desired: ["a.io"],
      dirs: { "a.io": { kind: "foreign", reason: "hosts.toml not written by peerpull" } },
      want: [{ kind: "conflict", registry: "a.io", dir: "a.io" }],
    },
    {
      name: "a registry that left the config loses its file",
      desired: ["a.io"],
      dirs: { "a.io": { kind: "managed", text: text("a.io") }, "gone.io": { kind: "managed", text: "x" } },
      want: [
        { kind: "unchanged", registry: "a.io", dir: "a.io" },
        { kind: "remove", dir: "gone.io" },
      ],
    },
    {
      name: "no registries (cleanup) removes every managed file and nothing else",
      desired: [],
      dirs: {
        "a.io": { kind: "managed", text: "x" },
        "b.io": { kind: "foreign", reason: "theirs" },
      },
      want: [{ kind: "remove", dir: "a.io" }],
    },
    {
      name: "a host_port_ directory shadows host:port",
      desired: ["r.test:5000"],
      dirs: { "r.test_5000_": { kind: "foreign", reason: "theirs" } },
      want: [{ kind: "conflict", registry: "r.test:5000", dir: "r.test:5000" }],
    },
  ] as const;
  it.each(rows)("$name", ({ desired, dirs, want }) => {
    const actions = planHostsDir(
      desired.map(registry => ({ registry, text: text(registry) })),
      snapshot(dirs as Record<string, DirState>),
    );
    expect(actions).toHaveLength(want.length);
    want.forEach((w, i) => expect(actions[i]).toMatchObject(w));
  });
});
