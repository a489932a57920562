/**
 * `npm run demo` itself, short: the built demo (build/demo.js) as a user runs it, output piped (so
 * plain lines), on network-namespace nodes as root and on loopback; its summary, summary.json and
 * chart; --keep's printed pull commands, run while it waits; Ctrl-C; bad arguments.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AGENT_BIN } from "../hack/netns/cluster";
import { removeDir, run, tempDir, waitFor } from "../hack/testenv/processes";
import { describeWith, NODE_NEEDS } from "./support/prerequisites";
import type { DemoSummary } from "../hack/demo/summary";

jest.setTimeout(180_000);

const DEMO = join(AGENT_BIN, "..", "demo.js");
const LOOPBACK_NEEDS = {
  commands: [
    ["docker-registry", "--version"],
    ["skopeo", "--version"],
    ["curl", "--version"],
  ],
};

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startDemo(args: string[]): Run {
  const child = spawn(process.execPath, [DEMO, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", chunk => (stdout += chunk));
  child.stderr!.on("data", chunk => (stderr += chunk));
  const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The namespaces of the demo run that printed `stdout` (other suites on this machine make their own). */
function namespacesOf(stdout: string): string[] {
  const prefix = /network namespaces \((pp-[a-z0-9]+-)\*\)/.exec(stdout)?.[1];
  if (!prefix) throw new Error(`no namespace prefix in the demo's output:\n${stdout}`);
  return execFileSync("ip", ["netns", "list"])
    .toString()
    .split("\n")
    .map(l => l.split(" ")[0])
    .filter(n => n.startsWith(prefix));
}

async function readSummary(dir: string): Promise<{ mode: string; summary: DemoSummary }> {
  return JSON.parse(await readFile(join(dir, "summary.json"), "utf8"));
}

function expectPlainRun(stdout: string, nodes: number): void {
  expect(stdout).not.toContain("\x1b[");
  expect(stdout).toContain("1/2  every node pulls straight from the registry");
  expect(stdout).toContain("2/2  every node pulls through its peerpull agent");
  for (let i = 1; i <= nodes; i++)
    expect(stdout.match(new RegExp(`node ${i}: done in`, "g"))).toHaveLength(2);
  expect(stdout).toMatch(/straight from the registry +[\d.]+ s +[\d.]+ MiB +\d\.\d\dx/);
  expect(stdout).toMatch(/through peerpull +[\d.]+ s +[\d.]+ MiB +\d\.\d\dx/);
  expect(stdout).toMatch(/^speedup: \d+\.\d\dx/m);
}

function expectSummary(summary: DemoSummary, nodes: number): void {
  expect(summary.nodes).toHaveLength(nodes);
  // straight: every node took the whole image from the registry; through peerpull: about once
  expect(summary.direct.registryImages).toBeGreaterThanOrEqual(nodes * 0.99);
  expect(summary.peerpull.registryImages).toBeGreaterThanOrEqual(0.99);
  expect(summary.peerpull.registryImages).toBeLessThanOrEqual(1.1);
  for (const node of summary.nodes) {
    expect(node.fromRegistry + node.fromPeers).toBeGreaterThanOrEqual(summary.imageBytes * 0.99);
    expect(node.directMs).toBeGreaterThan(0);
    expect(node.peerpullMs).toBeGreaterThan(0);
  }
  expect(summary.nodes.reduce((sum, n) => sum + n.fromPeers, 0)).toBeGreaterThan(0);
}

describe("demo arguments", () => {
  const bad: { name: string; args: string[]; message: RegExp }[] = [
    { name: "a stray word", args: ["banana"], message: /^demo: unexpected argument "banana"/ },
    { name: "a bad number", args: ["--nodes", "many"], message: /^demo: --nodes expects a whole number/ },
    { name: "an unknown option", args: ["--turbo"], message: /^demo: unknown option --turbo/ },
  ];
  it.each(bad)("$name: one line on stderr, exit 2, nothing started", async ({ args, message }) => {
    const demo = startDemo(args);
    expect(await demo.exited).toBe(2);
    expect(demo.stderr()).toMatch(message);
    expect(demo.stderr().trim().split("\n")).toHaveLength(1);
    expect(demo.stdout()).toBe("");
  });

  it("--help prints the usage and exits 0", async () => {
    const demo = startDemo(["--help"]);
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toMatch(/^usage: npm run demo -- \[--nodes N\]/);
  });
});

describeWith(NODE_NEEDS, "demo on network-namespace nodes (3 nodes, 12 MiB, 100 Mbit/s)", () => {
  let out: string;
  beforeAll(async () => (out = await tempDir("demo-out")));
  afterAll(() => removeDir(out));

  it("pulls straight and through peerpull, prints the summary, writes summary.json and the chart, leaves nothing", async () => {
    const demo = startDemo(["--nodes", "3", "--size", "12", "--mbit", "100", "--out", out]);
    expect(await demo.exited).toBe(0);
    const stdout = demo.stdout();
    expectPlainRun(stdout, 3);
    expect(stdout).toMatch(/3 network namespaces \(pp-[a-z0-9]+-\*\) behind a bridge/);
    expect(stdout).toContain(`chart:   ${join(out, "chart.svg")}`);

    const { mode, summary } = await readSummary(out);
    expect(mode).toBe("netns");
    expectSummary(summary, 3);
    const svg = await readFile(join(out, "chart.svg"), "utf8");
    expect(svg.match(/<polyline /g)).toHaveLength(6);
    expect(namespacesOf(stdout)).toEqual([]);
  });

  it("--keep: the printed pull commands work while it waits, and Ctrl-C removes everything", async () => {
    const demo = startDemo(["--nodes", "2", "--size", "4", "--mbit", "200", "--keep", "--out", out]);
    try {
      await waitFor(
        "the demo to wait for Ctrl-C",
        async () => (demo.stdout().includes("Ctrl-C stops everything") ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 200 },
      );
      const commands = demo
        .stdout()
        .split("\n")
        .filter(line => line.startsWith("  $ "))
        .map(line => line.slice(4));
      expect(commands.length).toBeGreaterThanOrEqual(3);
      expect(namespacesOf(demo.stdout())).toHaveLength(2 + 3); // nodes, registry, tracker, bridge
      const scratch = await tempDir("demo-keep");
      try {
        for (const command of commands) {
          const { stdout } = await run("bash", ["-c", command], {
            timeoutMs: 60_000,
            env: { ...process.env, TMPDIR: scratch },
          });
          expect(stdout.length).toBeGreaterThan(0);
        }
      } finally {
        await removeDir(scratch);
      }
    } finally {
      demo.child.kill("SIGINT");
    }
    expect(await demo.exited).toBe(0);
    expect(demo.stderr()).toContain("SIGINT: stopped; everything the demo started is gone");
    expect(namespacesOf(demo.stdout())).toEqual([]);
  });

  it("Ctrl-C in the middle of a phase stops the pulls and removes everything (exit 130)", async () => {
    const demo = startDemo(["--nodes", "2", "--size", "64", "--mbit", "10", "--out", out]);
    await waitFor(
      "the first phase to start",
      async () => (demo.stdout().includes("1/2") ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 100,
      },
    );
    demo.child.kill("SIGINT");
    expect(namespacesOf(demo.stdout())).toHaveLength(2 + 3);
    expect(await demo.exited).toBe(130);
    expect(namespacesOf(demo.stdout())).toEqual([]);
  });
});

describeWith(LOOPBACK_NEEDS, "demo on loopback (--loopback, 3 nodes, 12 MiB)", () => {
  it("runs with a throttled registry, says what differs, and summarises", async () => {
    const out = await tempDir("demo-loop");
    try {
      const demo = startDemo(["--loopback", "--nodes", "3", "--size", "12", "--mbit", "200", "--out", out]);
      expect(await demo.exited).toBe(0);
      expectPlainRun(demo.stdout(), 3);
      expect(demo.stdout()).toContain("loopback, no network namespaces (--loopback)");
      expect(demo.stdout()).toContain("throttling proxy of 200 Mbit/s");
      const { mode, summary } = await readSummary(out);
      expect(mode).toBe("loopback");
      expectSummary(summary, 3);
    } finally {
      await removeDir(out);
    }
  });
});
