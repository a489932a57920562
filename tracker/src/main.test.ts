// The bundled binary (build/peerpull-tracker.js): help, version, flag errors, token file, graceful shutdown.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { runNodeScript, waitFor } from "../../hack/testenv/processes";
import { TRACKER_BIN } from "../../hack/testenv/tracker";
import { itAnswersHelpAndVersion } from "../../e2e/support/cli";

const runBin = (args: string[]) => runNodeScript(TRACKER_BIN, args);

describe("peerpull-tracker binary", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "peerpull-tracker-bin-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  itAnswersHelpAndVersion(TRACKER_BIN, "peerpull-tracker", ["--listen", "--max-origin-streams"]);

  it.each([
    {
      name: "bad flag value",
      args: ["--peer-token-file", "x", "--lease-timeout", "never"],
      reason: /^peerpull-tracker: --lease-timeout: invalid duration "never"/,
    },
    {
      name: "negative duration",
      args: ["--peer-token-file", "x", "--lease-timeout", "-5s"],
      reason: /^peerpull-tracker: --lease-timeout: must not be negative, got "-5s"$/m,
    },
    { name: "unknown flag", args: ["--nope"], reason: /--nope: unknown flag/ },
    {
      name: "unreadable token file",
      args: ["--peer-token-file", "/nonexistent/token"],
      reason: /--peer-token-file: cannot read \/nonexistent\/token: ENOENT/,
    },
  ])("exits 2 with one line naming the field: $name", async ({ args, reason }) => {
    const { code, stderr } = await runBin(args);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(reason);
  });

  it("exits 2 on a token shorter than 16 characters", async () => {
    const short = join(dir, "short");
    await writeFile(short, "too-short\n");
    const { code, stderr } = await runBin(["--peer-token-file", short]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /--peer-token-file: .*short: the token must have at least 16 characters, it has 9/,
    );
  });

  it("logs JSON, serves, and exits 0 on SIGTERM", async () => {
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "0123456789abcdef0123\n");
    const child = spawn(process.execPath, [
      TRACKER_BIN,
      "--listen",
      "127.0.0.1:0",
      "--peer-token-file",
      tokenFile,
    ]);
    let out = "";
    child.stdout.on("data", chunk => (out += chunk));
    const exited = once(child, "exit");
    await waitFor("the tracker's listening line", async () => out.includes('"listening"') || undefined);
    const line = JSON.parse(out.split("\n")[0]);
    expect(line).toMatchObject({ level: "info", service: "peerpull-tracker", msg: "listening" });
    const port = Number(String(line.listen).split(":").pop());
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out).toContain('"shutting down"');
  });
});
