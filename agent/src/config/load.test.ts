import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { agentConfigFileProblems } from "../../../protocol/agent-config-file";
import { ConfigError, parseAgentArgs } from "./load";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "pp-config-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

function config(argv: string[]) {
  const result = parseAgentArgs(argv);
  if (result.action !== "run") throw new Error(`unexpected ${result.action}`);
  return result.config;
}

function problems(argv: string[]): string {
  try {
    parseAgentArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("agent config", () => {
  it("applies defaults and maps upstream origins", () => {
    const c = config(["--upstream", "docker.io", "--upstream", "reg.test:5000=http://127.0.0.1:5000"]);
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 65001 });
    expect(c.peerListen).toEqual({ host: "0.0.0.0", port: 65002 });
    expect(c.upstreams).toEqual([
      { host: "docker.io", origin: "https://registry-1.docker.io" },
      { host: "reg.test:5000", origin: "http://127.0.0.1:5000" },
    ]);
    expect(c.cache.ttlMs).toBe(24 * 3600 * 1000);
    expect(c.ratelimitBytesPerSec).toBe(512 * 1024 * 1024);
    expect(c.auth.ttlMs).toBe(5 * 60 * 1000);
    expect(c.tracker).toBeUndefined();
    expect(Object.isFrozen(c.cache)).toBe(true);
  });

  it("reads a YAML file and lets flags win", () => {
    const file = configFile(
      "agent.yaml",
      "upstreams:\n  - host: r.io\n    origin: http://127.0.0.1:1\ncacheTTL: 1h\nratelimit: 10M\n",
    );
    const c = config(["--config", file, "--ratelimit", "1G"]);
    expect(c.upstreams).toEqual([{ host: "r.io", origin: "http://127.0.0.1:1" }]);
    expect(c.cache.ttlMs).toBe(3600 * 1000);
    expect(c.ratelimitBytesPerSec).toBe(1024 ** 3);
  });

  it("takes one tracker URL or several separated by commas", () => {
    const swarm = ["--upstream", "r.io", "--peer-token-file", "/t"];
    expect(config([...swarm, "--tracker", "http://t:65010/"]).tracker).toEqual(["http://t:65010"]);
    expect(config([...swarm, "--tracker", "http://a:1, http://b:2"]).tracker).toEqual([
      "http://a:1",
      "http://b:2",
    ]);
  });

  it("mirror mode: hosts dir, containerd config and cleanup (flags or file keys)", () => {
    expect(config(["--upstream", "r.io"]).mirror).toEqual({ cleanup: false });
    const c = config([
      "--upstream",
      "r.io",
      "--containerd-hosts-dir",
      "/etc/containerd/certs.d",
      "--containerd-config",
      "/etc/containerd/config.toml",
    ]);
    expect(c.mirror).toEqual({
      hostsDir: "/etc/containerd/certs.d",
      containerdConfig: "/etc/containerd/config.toml",
      cleanup: false,
    });
    const file = configFile(
      "mirror.yaml",
      "containerdHostsDir: /etc/containerd/certs.d\ncontainerdHostsCleanup: true\n",
    );
    // Cleanup is a one-shot that opens no port: no --upstream needed.
    expect(config(["--config", file]).mirror).toEqual({ hostsDir: "/etc/containerd/certs.d", cleanup: true });
    expect(config(["--containerd-hosts-dir", "/d", "--containerd-hosts-cleanup=true"]).mirror.cleanup).toBe(
      true,
    );
  });

  it("answers -h, --help and --version", () => {
    expect(parseAgentArgs(["--help"])).toEqual({ action: "help" });
    expect(parseAgentArgs(["-h"])).toEqual({ action: "help" });
    expect(parseAgentArgs(["--version"])).toEqual({ action: "version" });
  });

  const rejects = [
    { name: "unknown flag", argv: ["--upstream", "r.io", "--bogus", "1"], reason: /--bogus/ },
    {
      name: "a piece size (the protocol's, not a setting)",
      argv: ["--upstream", "r.io", "--p2p-piece-bytes", "0"],
      reason: /--p2p-piece-bytes/,
    },
    { name: "no upstream", argv: [], reason: /--upstream: at least one/ },
    {
      name: "bad duration",
      argv: ["--upstream", "r.io", "--cache-ttl", "soon"],
      reason: /--cache-ttl: invalid duration/,
    },
    {
      name: "negative duration",
      argv: ["--upstream", "r.io", "--stall-timeout", "-5s"],
      reason: /^--stall-timeout: must not be negative, got "-5s"$/,
    },
    {
      name: "zero auth TTL",
      argv: ["--upstream", "r.io", "--auth-ttl", "0"],
      reason: /--auth-ttl: must be at least 1ms/,
    },
    {
      name: "a flag without its value",
      argv: ["--upstream", "r.io", "--cache-ttl"],
      reason: /--cache-ttl: needs a value/,
    },
    {
      name: "bad rate",
      argv: ["--upstream", "r.io", "--ratelimit", "fast"],
      reason: /--ratelimit: invalid size/,
    },
    {
      name: "zero rate",
      argv: ["--upstream", "r.io", "--ratelimit", "0"],
      reason: /--ratelimit: must be greater than 0/,
    },
    {
      name: "listen without a port",
      argv: ["--upstream", "r.io", "--listen", "65001"],
      reason: /--listen: expected HOST:PORT/,
    },
    {
      name: "listen with an empty port",
      argv: ["--upstream", "r.io", "--listen", "127.0.0.1:"],
      reason: /--listen: expected HOST:PORT/,
    },
    {
      name: "retries not a whole number",
      argv: ["--upstream", "r.io", "--upstream-retries", "2.5"],
      reason: /--upstream-retries: expected an integer from 0 to 20/,
    },
    {
      name: "bad origin scheme",
      argv: ["--upstream", "r.io=ftp://x"],
      reason: /--upstream: origin for r.io must be http or https/,
    },
    {
      name: "origin with path",
      argv: ["--upstream", "r.io=http://x/y"],
      reason: /--upstream: origin for r.io must be a bare base URL/,
    },
    { name: "bad host", argv: ["--upstream", "r io"], reason: /--upstream: invalid registry host/ },
    {
      name: "duplicate upstream",
      argv: ["--upstream", "r.io", "--upstream", "R.io"],
      reason: /--upstream: r.io is configured twice/,
    },
    {
      name: "bad pattern",
      argv: ["--upstream", "r.io", "--download-pattern", "both"],
      reason: /--download-pattern: expected one of p2p, source/,
    },
    {
      name: "bad tracker",
      argv: ["--upstream", "r.io", "--tracker", "nope"],
      reason: /--tracker: expected an http\(s\) URL/,
    },
    {
      name: "one bad tracker of two",
      argv: ["--upstream", "r.io", "--tracker", "http://a:1,ftp://b"],
      reason: /--tracker: expected an http\(s\) URL, got "ftp:\/\/b"/,
    },
    {
      name: "empty tracker list",
      argv: ["--upstream", "r.io", "--tracker", " , "],
      reason: /--tracker: needs at least one URL/,
    },
    {
      name: "tracker without a token file",
      argv: ["--upstream", "r.io", "--tracker", "http://t:1"],
      reason: /--peer-token-file: required with --tracker/,
    },
    {
      name: "relative hosts dir",
      argv: ["--upstream", "r.io", "--containerd-hosts-dir", "certs.d"],
      reason: /--containerd-hosts-dir: must be an absolute path/,
    },
    {
      name: "cleanup without a hosts dir",
      argv: ["--containerd-hosts-cleanup", "true"],
      reason: /--containerd-hosts-cleanup: needs --containerd-hosts-dir/,
    },
    {
      name: "cleanup not a boolean",
      argv: ["--containerd-hosts-dir", "/d", "--containerd-hosts-cleanup", "yes"],
      reason: /--containerd-hosts-cleanup: expected true or false/,
    },
    {
      name: "containerd config without a hosts dir",
      argv: ["--upstream", "r.io", "--containerd-config", "/etc/containerd/config.toml"],
      reason: /--containerd-config: only used with --containerd-hosts-dir/,
    },
  ];
  it.each(rejects)("rejects $name, naming the flag", ({ argv, reason }) => {
    expect(problems(argv)).toMatch(reason);
  });

  it("reports every bad field at once", () => {
    const message = problems(["--upstream", "r.io", "--cache-ttl", "x", "--ratelimit", "y"]);
    expect(message).toContain("--cache-ttl");
    expect(message).toContain("--ratelimit");
  });

  it("rejects unknown keys in the file", () => {
    const file = configFile("agent.json", JSON.stringify({ upstreams: ["r.io"], cacheTtl: "1h" }));
    expect(problems(["--config", file])).toBe(`--config ${file}: cacheTtl: unknown field`);
  });

  it("judges a config file exactly as the Pepr module's check does (one table, one set of rules)", () => {
    const docs: Record<string, unknown>[] = [
      { upstreams: ["r.io"] },
      { upstreams: ["r.io"], tracker: "http://t:1" },
      { upstreams: ["r.io"], tracker: "http://t:1", downloadPattern: "source" },
      { upstreams: [], cacheTTL: "-1s" },
      { upstreams: ["r.io"], listen: "h:" },
      { upstreams: ["r.io", "R.IO"], ratelimit: "0" },
    ];
    for (const [i, doc] of docs.entries()) {
      const file = configFile(`same-${i}.yaml`, stringify(doc));
      const fileProblems = agentConfigFileProblems(doc);
      let loaderProblem: string | undefined;
      try {
        parseAgentArgs(["--config", file]);
      } catch (err) {
        loaderProblem = (err as Error).message;
      }
      expect({ doc, rejected: loaderProblem !== undefined }).toEqual({
        doc,
        rejected: fileProblems.length > 0,
      });
    }
  });
});
