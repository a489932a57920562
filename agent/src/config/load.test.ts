import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseAgentArgs } from "./load";

function config(argv: string[]) {
  const result = parseAgentArgs(argv);
  if (result.help) throw new Error("unexpected help");
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
    const dir = mkdtempSync(join(tmpdir(), "pp-config-"));
    const file = join(dir, "agent.yaml");
    writeFileSync(
      file,
      "upstreams:\n  - host: r.io\n    origin: http://127.0.0.1:1\ncacheTTL: 1h\nratelimit: 10M\n",
    );
    const c = config(["--config", file, "--ratelimit", "1G"]);
    expect(c.upstreams).toEqual([{ host: "r.io", origin: "http://127.0.0.1:1" }]);
    expect(c.cache.ttlMs).toBe(3600 * 1000);
    expect(c.ratelimitBytesPerSec).toBe(1024 ** 3);
  });

  it("takes one tracker URL or several separated by commas", () => {
    expect(config(["--upstream", "r.io", "--tracker", "http://t:65010/"]).tracker).toEqual([
      "http://t:65010",
    ]);
    expect(config(["--upstream", "r.io", "--tracker", "http://a:1, http://b:2"]).tracker).toEqual([
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
    const dir = mkdtempSync(join(tmpdir(), "pp-config-"));
    const file = join(dir, "agent.yaml");
    writeFileSync(file, "containerdHostsDir: /etc/containerd/certs.d\ncontainerdHostsCleanup: true\n");
    // Cleanup is a one-shot that opens no port: no --upstream needed.
    expect(config(["--config", file]).mirror).toEqual({ hostsDir: "/etc/containerd/certs.d", cleanup: true });
    expect(config(["--containerd-hosts-dir", "/d", "--containerd-hosts-cleanup=true"]).mirror.cleanup).toBe(
      true,
    );
  });

  it("answers --help", () => expect(parseAgentArgs(["--help"])).toEqual({ help: true }));

  const rejects = [
    { name: "unknown flag", argv: ["--upstream", "r.io", "--bogus", "1"], field: "--bogus" },
    { name: "no upstream", argv: [], field: "--upstream" },
    { name: "bad duration", argv: ["--upstream", "r.io", "--cache-ttl", "soon"], field: "--cache-ttl" },
    { name: "bad rate", argv: ["--upstream", "r.io", "--ratelimit", "fast"], field: "--ratelimit" },
    { name: "bad listen", argv: ["--upstream", "r.io", "--listen", "65001"], field: "--listen" },
    { name: "bad origin scheme", argv: ["--upstream", "r.io=ftp://x"], field: "--upstream" },
    { name: "origin with path", argv: ["--upstream", "r.io=http://x/y"], field: "--upstream" },
    { name: "bad host", argv: ["--upstream", "r io"], field: "--upstream" },
    { name: "duplicate upstream", argv: ["--upstream", "r.io", "--upstream", "R.io"], field: "--upstream" },
    {
      name: "bad pattern",
      argv: ["--upstream", "r.io", "--download-pattern", "both"],
      field: "--download-pattern",
    },
    { name: "bad tracker", argv: ["--upstream", "r.io", "--tracker", "nope"], field: "--tracker" },
    {
      name: "one bad tracker of two",
      argv: ["--upstream", "r.io", "--tracker", "http://a:1,ftp://b"],
      field: "--tracker",
    },
    { name: "empty tracker list", argv: ["--upstream", "r.io", "--tracker", " , "], field: "--tracker" },
    {
      name: "relative hosts dir",
      argv: ["--upstream", "r.io", "--containerd-hosts-dir", "certs.d"],
      field: "--containerd-hosts-dir",
    },
    {
      name: "cleanup without a hosts dir",
      argv: ["--containerd-hosts-cleanup", "true"],
      field: "--containerd-hosts-cleanup",
    },
    {
      name: "cleanup not a boolean",
      argv: ["--containerd-hosts-dir", "/d", "--containerd-hosts-cleanup", "yes"],
      field: "--containerd-hosts-cleanup",
    },
    {
      name: "containerd config without a hosts dir",
      argv: ["--upstream", "r.io", "--containerd-config", "/etc/containerd/config.toml"],
      field: "--containerd-config",
    },
  ];
  it.each(rejects)("rejects $name naming the field", ({ argv, field }) => {
    expect(problems(argv)).toContain(field);
  });

  it("reports every bad field at once", () => {
    const message = problems(["--upstream", "r.io", "--cache-ttl", "x", "--ratelimit", "y"]);
    expect(message).toContain("--cache-ttl");
    expect(message).toContain("--ratelimit");
  });

  it("rejects unknown keys in the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "pp-config-"));
    const file = join(dir, "agent.json");
    writeFileSync(file, JSON.stringify({ upstreams: ["r.io"], cacheTtl: "1h" }));
    expect(problems(["--config", file])).toContain("unknown field cacheTtl");
  });
});
