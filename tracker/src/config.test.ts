import { ConfigError, helpText, parseTrackerArgs, TrackerConfig } from "./config";

function config(argv: string[]): TrackerConfig {
  const result = parseTrackerArgs(argv);
  if (result.action !== "run") throw new Error(`unexpected ${result.action}`);
  return result.config;
}

function problems(argv: string[]): string {
  try {
    parseTrackerArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("did not throw");
}

describe("tracker config", () => {
  it("fills defaults and freezes the result", () => {
    const c = config(["--peer-token-file", "/run/token"]);
    expect(c).toEqual({
      listen: { host: "0.0.0.0", port: 65010 },
      peerTokenFile: "/run/token",
      peerTtlMs: 60_000,
      leaseTimeoutMs: 30_000,
      maxOriginStreams: 4,
      announceIntervalMs: 15_000,
      maxPeers: 48,
      maxAnnounceRate: 2000,
      maxStateBytes: 256 * 1024 * 1024,
      logLevel: "info",
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  const parses: { name: string; argv: string[]; expect: Partial<TrackerConfig> }[] = [
    { name: "listen", argv: ["--listen", "127.0.0.1:0"], expect: { listen: { host: "127.0.0.1", port: 0 } } },
    { name: "IPv6 listen", argv: ["--listen", "[::]:7000"], expect: { listen: { host: "::", port: 7000 } } },
    {
      name: "durations",
      argv: ["--peer-ttl", "2m", "--lease-timeout", "1500ms"],
      expect: { peerTtlMs: 120_000, leaseTimeoutMs: 1500 },
    },
    { name: "streams", argv: ["--max-origin-streams", "1"], expect: { maxOriginStreams: 1 } },
    { name: "log level", argv: ["--log-level", "debug"], expect: { logLevel: "debug" } },
  ];
  it.each(parses)("parses $name", ({ argv, expect: want }) => {
    expect(config(["--peer-token-file", "t", ...argv])).toMatchObject(want);
  });

  const rejects: { name: string; argv: string[]; reason: RegExp }[] = [
    { name: "missing token file", argv: [], reason: /--peer-token-file: required/ },
    {
      name: "bad listen",
      argv: ["--peer-token-file", "t", "--listen", "nowhere"],
      reason: /--listen: expected HOST:PORT/,
    },
    {
      name: "bad duration",
      argv: ["--peer-token-file", "t", "--peer-ttl", "soon"],
      reason: /--peer-ttl: invalid duration/,
    },
    {
      name: "negative duration",
      argv: ["--peer-token-file", "t", "--lease-timeout", "-5s"],
      reason: /^--lease-timeout: must not be negative, got "-5s"$/,
    },
    {
      name: "duration below its minimum",
      argv: ["--peer-token-file", "t", "--peer-ttl", "10ms"],
      reason: /^--peer-ttl: must be from 1s to 24h, got "10ms"$/,
    },
    {
      name: "listen with an empty port (as the agent refuses it)",
      argv: ["--peer-token-file", "t", "--listen", "0.0.0.0:"],
      reason: /--listen: expected HOST:PORT/,
    },
    {
      name: "a state budget below 1M",
      argv: ["--peer-token-file", "t", "--max-state-bytes", "1000"],
      reason: /--max-state-bytes: must be at least 1048576 bytes/,
    },
    {
      name: "zero streams",
      argv: ["--peer-token-file", "t", "--max-origin-streams", "0"],
      reason: /--max-origin-streams: expected an integer from 1/,
    },
    {
      name: "unknown level",
      argv: ["--peer-token-file", "t", "--log-level", "loud"],
      reason: /--log-level: expected one of/,
    },
    {
      name: "interval above ttl",
      argv: ["--peer-token-file", "t", "--announce-interval", "2m"],
      reason: /--announce-interval: must be below --peer-ttl/,
    },
    { name: "unknown flag", argv: ["--peer-token-file", "t", "--bogus", "1"], reason: /bogus/ },
  ];
  it.each(rejects)("rejects $name", ({ argv, reason }) => {
    expect(problems(argv)).toMatch(reason);
  });

  it("reports every bad field at once", () => {
    expect(problems(["--listen", "x", "--peer-ttl", "y"]).split("; ")).toHaveLength(3);
  });

  it("answers -h, --help and --version", () => {
    expect(parseTrackerArgs(["-h"])).toEqual({ action: "help" });
    expect(parseTrackerArgs(["--version"])).toEqual({ action: "version" });
  });

  it("documents every flag", () => {
    expect(parseTrackerArgs(["--help"])).toEqual({ action: "help" });
    for (const flag of [
      "--listen",
      "--peer-token-file",
      "--peer-ttl",
      "--lease-timeout",
      "--max-origin-streams",
      "--log-level",
    ])
      expect(helpText()).toContain(flag);
  });
});
