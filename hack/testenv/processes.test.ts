import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import {
  boundPort,
  exists,
  freePort,
  removeDir,
  requireListeningLogged,
  run,
  spawnLogged,
  tempDir,
  Teardown,
  waitFor,
  waitForHttp,
  waitForListening,
  waitForLogLine,
  waitForSocket,
} from "./processes";

describe("process helpers", () => {
  let dir: string;
  const teardown = new Teardown();

  beforeAll(async () => {
    dir = await tempDir("processes-test");
    teardown.add(() => removeDir(dir));
  });
  afterAll(() => teardown.run());

  test("a process on port 0 is found through its listening line", async () => {
    const script = `console.log(JSON.stringify({ level: "info", msg: "listening", peer: "127.0.0.1:4321" }));
      setTimeout(() => {}, 10000);`;
    const proc = await spawnLogged(process.execPath, ["-e", script], { logPath: join(dir, "listening.log") });
    teardown.add(() => proc.stop());
    const line = await waitForListening(proc);
    expect(boundPort(line, "peer")).toBe(4321);
    expect(() => boundPort(line, "registry")).toThrow(/no registry address/);
  });

  test("a launcher refuses a log level that hides the listening line", () => {
    expect(() => requireListeningLogged(["--log-level", "warn"], "startAgent")).toThrow(/use info/);
    expect(() => requireListeningLogged(["--log-level", "info"], "startAgent")).not.toThrow();
    expect(() => requireListeningLogged([], "startAgent")).not.toThrow();
  });

  test("freePort returns a port that can be bound on loopback", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1024);
    const srv = http.createServer();
    await new Promise<void>(resolve => srv.listen(port, "127.0.0.1", resolve));
    await new Promise(resolve => srv.close(resolve));
  });

  test("spawnLogged writes output to the log, stop() ends exactly that PID", async () => {
    const logPath = join(dir, "sleep.log");
    const proc = await spawnLogged("sh", ["-c", "echo started; exec sleep 30"], { logPath });
    teardown.add(() => proc.stop());
    await waitForLogLine(logPath, /started/, { process: proc, timeoutMs: 5000 });
    expect(() => process.kill(proc.pid, 0)).not.toThrow();
    await proc.stop();
    expect(proc.hasExited()).toBe(true);
    expect((await proc.exited).signal).toBe("SIGTERM");
    expect(() => process.kill(proc.pid, 0)).toThrow();
  });

  test("stop() escalates to SIGKILL when SIGTERM is ignored", async () => {
    const logPath = join(dir, "stubborn.log");
    const proc = await spawnLogged("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"], {
      logPath,
    });
    teardown.add(() => proc.stop());
    await waitForLogLine(logPath, /ready/, { process: proc, timeoutMs: 5000 });
    await proc.stop(300);
    expect((await proc.exited).signal).toBe("SIGKILL");
  });

  test("a wait fails fast with the log tail when the process dies", async () => {
    const logPath = join(dir, "dies.log");
    const proc = await spawnLogged("sh", ["-c", "echo boom-reason; exit 3"], { logPath });
    await expect(waitForHttp("http://127.0.0.1:1/", { process: proc, timeoutMs: 10_000 })).rejects.toThrow(
      /exited[\s\S]*boom-reason/,
    );
  });

  test("a process that exits at once is still seen to exit", async () => {
    for (let i = 0; i < 20; i++) {
      const proc = await spawnLogged("true", [], { logPath: join(dir, "true.log") });
      expect(await proc.exited).toEqual({ code: 0, signal: null });
    }
  });

  test("spawning a missing command rejects", async () => {
    await expect(
      spawnLogged("peerpull-no-such-command", [], { logPath: join(dir, "missing.log") }),
    ).rejects.toThrow(/ENOENT/);
  });

  test("waits are bounded", async () => {
    const t0 = Date.now();
    await expect(waitFor("never", async () => undefined, { timeoutMs: 200 })).rejects.toThrow(
      /timed out.*never/,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test("waitForHttp and waitForSocket see a server come up", async () => {
    const port = await freePort();
    const srv = http.createServer((_req, res) => res.writeHead(401).end());
    setTimeout(() => srv.listen(port, "127.0.0.1"), 200);
    teardown.add(() => new Promise<void>(resolve => srv.close(() => resolve())));
    expect(await waitForHttp(`http://127.0.0.1:${port}/v2/`, { timeoutMs: 5000, statuses: [401] })).toBe(401);

    const sock = join(dir, "s.sock");
    const unix: Server = createServer(c => c.end());
    setTimeout(() => unix.listen(sock), 200);
    teardown.add(() => new Promise<void>(resolve => unix.close(() => resolve())));
    expect(await waitForSocket(sock, { timeoutMs: 5000 })).toBe(true);
  });

  test("run returns output and rejects with stderr on failure or timeout", async () => {
    expect((await run("sh", ["-c", "echo hi"])).stdout).toBe("hi\n");
    await expect(run("sh", ["-c", "echo bad >&2; exit 2"])).rejects.toThrow(/bad/);
    await expect(run("sleep", ["10"], { timeoutMs: 200 })).rejects.toThrow();
  });

  test("Teardown runs steps last-in first-out and reports failures after running all", async () => {
    const order: number[] = [];
    const t = new Teardown();
    t.add(() => void order.push(1));
    t.add(() => {
      throw new Error("step 2");
    });
    t.add(async () => void order.push(3));
    await expect(t.run()).rejects.toThrow(/1 teardown step/);
    expect(order).toEqual([3, 1]);
  });

  test("tempDir and removeDir", async () => {
    const d = await tempDir("x");
    await writeFile(join(d, "f"), "x");
    await removeDir(d);
    expect(await exists(d)).toBe(false);
  });
});
