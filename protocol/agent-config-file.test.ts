import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseAgentArgs } from "../agent/src/config/load";
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

const rejects: { name: string; doc: Record<string, unknown>; problem: RegExp }[] = [
  { name: "unknown key", doc: { ...good, bandwidth: "1G" }, problem: /bandwidth: unknown field/ },
  { name: "TTL in words", doc: { ...good, cacheTTL: "1 day" }, problem: /cacheTTL/ },
  { name: "size with a rate suffix", doc: { ...good, cacheMaxBytes: "10G/s" }, problem: /cacheMaxBytes/ },
  { name: "zero rate", doc: { ...good, ratelimit: "0" }, problem: /ratelimit: must be greater than 0/ },
  { name: "no upstream", doc: { ...good, upstreams: [] }, problem: /at least one upstream/ },
  { name: "upstreams missing", doc: { listen: good.listen }, problem: /at least one upstream/ },
  {
    name: "the same upstream twice",
    doc: { ...good, upstreams: [{ host: "r.io" }, { host: "R.io" }] },
    problem: /r\.io is configured twice/,
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
  { name: "port out of range", doc: { ...good, listen: "127.0.0.1:70000" }, problem: /listen/ },
  { name: "unknown download pattern", doc: { ...good, downloadPattern: "fast" }, problem: /downloadPattern/ },
  {
    name: "tracker without a token file",
    doc: { ...good, peerTokenFile: undefined },
    problem: /peerTokenFile: required with tracker/,
  },
];

describe("agentConfigFileProblems agrees with the agent's own loader", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "agent-config-file-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What the agent itself says about the file: undefined = it would start. */
  function agentVerdict(doc: Record<string, unknown>): string | undefined {
    const file = join(dir, "agent.yaml");
    writeFileSync(file, stringify(JSON.parse(JSON.stringify(doc))));
    try {
      const cli = parseAgentArgs(["--config", file]);
      if (cli.help) return "help";
      const { config } = cli;
      // agent/src/main.ts refuses a tracker without a token file at start
      if (config.tracker && config.downloadPattern === "p2p" && !config.peerTokenFile)
        return "--peer-token-file: required with --tracker";
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it("accepts what the agent accepts", () => {
    expect(agentConfigFileProblems(good)).toEqual([]);
    expect(agentVerdict(good)).toBeUndefined();
    const source = { ...good, downloadPattern: "source", tracker: undefined, peerTokenFile: undefined };
    expect(agentConfigFileProblems(JSON.parse(JSON.stringify(source)))).toEqual([]);
    expect(agentVerdict(source)).toBeUndefined();
  });

  it.each(rejects)("rejects $name, as the agent does", ({ doc, problem }) => {
    const clean = JSON.parse(JSON.stringify(doc));
    expect(agentConfigFileProblems(clean).join("; ")).toMatch(problem);
    expect(agentVerdict(clean)).toBeDefined();
  });
});
