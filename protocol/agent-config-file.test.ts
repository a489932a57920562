import { agentConfigFileProblems } from "./agent-config-file";

const good = {
  listen: "127.0.0.1:65001",
  upstreams: [{ host: "registry.example.com", origin: "https://registry.example.com" }],
  cacheDir: "/var/lib/peerpull",
  cacheTTL: "24h",
  cacheMaxBytes: "100G",
  ratelimit: "512M",
  downloadPattern: "p2p",
  tracker: "http://peerpull-tracker-0.peerpull-tracker.peerpull-system.svc:65010",
  peerTokenFile: "/etc/peerpull/token/token",
};

const accepts: { name: string; doc: Record<string, unknown> }[] = [
  { name: "the reconciler's p2p config", doc: good },
  { name: "source mode without tracker or token", doc: { upstreams: ["r.io"], downloadPattern: "source" } },
  {
    name: "numbers where YAML gives numbers",
    doc: { upstreams: ["r.io"], peerUploadSlots: 8, cacheTTL: 60000 },
  },
  {
    name: "a tracker in source mode needs no token",
    doc: { upstreams: ["r.io"], downloadPattern: "source", tracker: "http://t:1" },
  },
];

const rejects: { name: string; doc: Record<string, unknown>; problem: RegExp }[] = [
  { name: "unknown key", doc: { ...good, bandwidth: "1G" }, problem: /^bandwidth: unknown field$/ },
  {
    name: "a flag-only setting as a key",
    doc: { ...good, config: "/x.yaml" },
    problem: /^config: unknown field$/,
  },
  { name: "TTL in words", doc: { ...good, cacheTTL: "1 day" }, problem: /^cacheTTL: invalid duration/ },
  { name: "negative TTL", doc: { ...good, cacheTTL: "-1h" }, problem: /^cacheTTL: must not be negative/ },
  { name: "zero TTL", doc: { ...good, cacheTTL: "0s" }, problem: /^cacheTTL: must be at least 1ms/ },
  {
    name: "size with a rate suffix",
    doc: { ...good, cacheMaxBytes: "10G/s" },
    problem: /^cacheMaxBytes: invalid size/,
  },
  { name: "zero rate", doc: { ...good, ratelimit: "0" }, problem: /^ratelimit: must be greater than 0$/ },
  { name: "no upstream", doc: { ...good, upstreams: [] }, problem: /^upstreams: at least one upstream/ },
  { name: "upstreams missing", doc: { listen: good.listen }, problem: /^upstreams: at least one upstream/ },
  {
    name: "the same upstream twice",
    doc: { ...good, upstreams: [{ host: "r.io" }, { host: "R.io" }] },
    problem: /^upstreams: r\.io is configured twice$/,
  },
  {
    name: "invalid registry host",
    doc: { ...good, upstreams: [{ host: "bad_host!" }] },
    problem: /invalid registry host/,
  },
  {
    name: "origin with a path",
    doc: { ...good, upstreams: [{ host: "r.io", origin: "https://r.io/v2" }] },
    problem: /bare base URL/,
  },
  {
    name: "port out of range",
    doc: { ...good, listen: "127.0.0.1:70000" },
    problem: /^listen: expected HOST:PORT/,
  },
  { name: "no port", doc: { ...good, listen: "127.0.0.1:" }, problem: /^listen: expected HOST:PORT/ },
  {
    name: "fractional slots",
    doc: { ...good, peerUploadSlots: "4.5" },
    problem: /^peerUploadSlots: expected an integer/,
  },
  {
    name: "unknown download pattern",
    doc: { ...good, downloadPattern: "fast" },
    problem: /^downloadPattern: expected one of p2p, source/,
  },
  {
    name: "tracker without a token file",
    doc: { ...good, peerTokenFile: undefined },
    problem: /^peerTokenFile: required with tracker$/,
  },
];

describe("agentConfigFileProblems", () => {
  it.each(accepts)("accepts $name", ({ doc }) => {
    expect(agentConfigFileProblems(doc)).toEqual([]);
  });

  it.each(rejects)("rejects $name, naming the key", ({ doc, problem }) => {
    const problems = agentConfigFileProblems(JSON.parse(JSON.stringify(doc)));
    expect(problems.some(p => problem.test(p))).toBe(true);
  });

  it("reports every bad key at once", () => {
    const problems = agentConfigFileProblems({ ...good, cacheTTL: "x", ratelimit: "y", bogus: 1 });
    expect(problems).toHaveLength(3);
  });
});
