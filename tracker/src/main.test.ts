// The bundled binary (build/peerpull-tracker.js): help, flag errors, token file, graceful shutdown.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

const BIN = join(__dirname, "..", "..", "build", "peerpull-tracker.js");
const describeBuilt = existsSync(BIN) ? describe : describe.skip;

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describeBuilt("peerpull-tracker binary", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "peerpull-tracker-bin-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints help and exits 0", async () => {
    const { code, stdout } = await runBin(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--max-origin-streams");
  });

  it.each([
    {
      name: "bad flag value",
      args: ["--peer-token-file", "x", "--lease-timeout", "never"],
      reason: /--lease-timeout/,
    },
    { name: "unknown flag", args: ["--nope"], reason: /nope/ },
    {
      name: "unreadable token file",
      args: ["--peer-token-file", "/nonexistent/token"],
      reason: /--peer-token-file: cannot read/,
    },
  ])("exits 2 with one line naming the field: $name", async ({ args, reason }) => {
    const { code, stderr } = await runBin(args);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(reason);
  });

  it("logs JSON, serves, and exits 0 on SIGTERM", async () => {
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "0123456789abcdef0123\n");
    const child = spawn(process.execPath, [BIN, "--listen", "127.0.0.1:0", "--peer-token-file", tokenFile]);
    let out = "";
    child.stdout.on("data", chunk => (out += chunk));
    const exited = once(child, "exit");
    for (let i = 0; i < 100 && !out.includes('"listening"'); i++) await new Promise(r => setTimeout(r, 50));
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
