// The bundled binary (build/peerpull-agent.js) as a user starts it: help, version, and settings it
// refuses with one line on stderr and exit 2, before any port opens. Serving is covered by e2e/.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_BIN, agentNodeFlags } from "../../hack/testenv/agent";
import { run, runNodeScript } from "../../hack/testenv/processes";
import { itAnswersHelpAndVersion } from "../../e2e/support/cli";

const runBin = (args: string[]) => runNodeScript(AGENT_BIN, args);

describe("peerpull-agent binary", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "peerpull-agent-bin-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  itAnswersHelpAndVersion(AGENT_BIN, "peerpull-agent", ["--upstream", "--cache-ttl", "--tracker"]);

  const refused = [
    {
      name: "a negative duration",
      args: ["--upstream", "r.io", "--stall-timeout", "-5s"],
      line: 'peerpull-agent: --stall-timeout: must not be negative, got "-5s"',
    },
    {
      name: "a piece size (fixed by the protocol, not a setting)",
      args: ["--upstream", "r.io", "--p2p-piece-bytes", "0"],
      line: "peerpull-agent: --p2p-piece-bytes: unknown flag (--help lists them)",
    },
    {
      name: "a listen address without a port",
      args: ["--upstream", "r.io", "--listen", "127.0.0.1:"],
      line: 'peerpull-agent: --listen: expected HOST:PORT with a port from 0 to 65535, got "127.0.0.1:"',
    },
    {
      name: "a tracker without a token file",
      args: ["--upstream", "r.io", "--tracker", "http://127.0.0.1:9"],
      line: "peerpull-agent: --peer-token-file: required with --tracker",
    },
    {
      name: "a missing token file",
      args: ["--upstream", "r.io", "--tracker", "http://127.0.0.1:9", "--peer-token-file", "/nonexistent/t"],
      line: "peerpull-agent: --peer-token-file: cannot read /nonexistent/t: ENOENT",
    },
  ];
  it.each(refused)("refuses $name with one line and exit 2", async ({ args, line }) => {
    const cacheDir = join(dir, "cache");
    expect(await runBin([...args, "--cache-dir", cacheDir])).toEqual({
      code: 2,
      stdout: "",
      stderr: line + "\n",
    });
  });

  it("refuses a token shorter than 16 characters", async () => {
    const short = join(dir, "short");
    await writeFile(short, "too-short\n");
    const args = ["--upstream", "r.io", "--tracker", "http://127.0.0.1:9", "--peer-token-file", short];
    const { code, stderr } = await runBin([...args, "--cache-dir", join(dir, "cache")]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `peerpull-agent: --peer-token-file: ${short}: the token must have at least 16 characters, it has 9\n`,
    );
  });

  // The image's `peerpull-agent` command runs the file through its shebang, and the test launchers
  // pass the flags they read from it (hack/build.mjs says why the agent needs them).
  it("starts through its shebang with the heap flags the launchers read back", async () => {
    expect(agentNodeFlags()).toContainEqual(expect.stringMatching(/^--initial-old-space-size=\d+$/));
    const { stdout } = await run(AGENT_BIN, ["--version"], { timeoutMs: 30_000 });
    expect(stdout).toMatch(/^peerpull-agent \d+\.\d+\.\d+/);
  });
});
