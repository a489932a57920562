// Child processes, temp dirs and bounded waits for the real-component test environment.
// Everything spawned here is tracked by PID; stop() ends exactly that PID (never a name), and a
// process 'exit' hook SIGKILLs whatever a crashed test left running.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, open, readFile, rm, stat } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";

export interface ManagedProcess {
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of live.keys()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

export interface SpawnOptions {
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Spawns `cmd args`, stdout and stderr appended to `logPath`. */
export async function spawnLogged(cmd: string, args: string[], opts: SpawnOptions): Promise<ManagedProcess> {
  installExitHook();
  const log = await open(opts.logPath, "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", log.fd, log.fd],
  });
  // Listen before any await: a fast child can exit (or fail to spawn) while the log closes.
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
    child.once("exit", (code, signal) => {
      done = true;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise<Error>(resolve => child.once("error", resolve));
  const pid = child.pid;
  if (pid !== undefined) live.set(pid, child);
  await log.close();
  if (pid === undefined) {
    const error = (await spawnError) as NodeJS.ErrnoException;
    const hint = error.code === "ENOENT" ? ` (${cmd} is not installed: bash hack/install-deps.sh)` : "";
    throw new Error(`spawn ${cmd} failed: ${error.message}${hint}`);
  }
  return {
    pid,
    logPath: opts.logPath,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5000) {
      if (done) return;
      signalPid(pid, "SIGTERM");
      const timer = delay(graceMs).then(() => "timeout" as const);
      if ((await Promise.race([exited.then(() => "exited" as const), timer])) === "timeout") {
        signalPid(pid, "SIGKILL");
        await Promise.race([exited, delay(5000)]);
      }
    },
  };
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms).unref());
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail at once (with the log tail) if this process exits while waiting. */
  process?: ManagedProcess;
}

/** Polls `probe` until it returns a value other than undefined; bounded by `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    if (opts.process?.hasExited()) {
      throw new Error(`${what}: process ${opts.process.pid} exited\n${await logTail(opts.process.logPath)}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const tail = opts.process ? `\n${await logTail(opts.process.logPath)}` : "";
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out waiting for ${what}${cause}${tail}`);
    }
    await delay(opts.intervalMs ?? 50);
  }
}

/** Waits until a GET on `url` answers with any HTTP status (or one of `statuses`). */
export function waitForHttp(url: string, opts: WaitOptions & { statuses?: number[] } = {}): Promise<number> {
  return waitFor(
    `HTTP ${url}`,
    () =>
      new Promise<number | undefined>(resolve => {
        const req = http.get(url, { timeout: 2000 }, res => {
          res.resume();
          const status = res.statusCode ?? 0;
          resolve(!opts.statuses || opts.statuses.includes(status) ? status : undefined);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(undefined));
      }),
    opts,
  );
}

/** Waits until a unix socket at `path` accepts a connection. */
export function waitForSocket(path: string, opts: WaitOptions = {}): Promise<true> {
  return waitFor(
    `unix socket ${path}`,
    () =>
      new Promise<true | undefined>(resolve => {
        const sock = createConnection(path);
        sock.once("connect", () => {
          sock.destroy();
          resolve(true);
        });
        sock.once("error", () => resolve(undefined));
      }),
    opts,
  );
}

/** Waits until a line of the log file matches `pattern`; returns the match. */
export function waitForLogLine(
  logPath: string,
  pattern: RegExp,
  opts: WaitOptions = {},
): Promise<RegExpMatchArray> {
  return waitFor(
    `log line ${pattern} in ${logPath}`,
    async () => (await readFile(logPath, "utf8")).match(pattern) ?? undefined,
    opts,
  );
}

/**
 * The JSON log line (`"msg":"listening"`) a peerpull binary writes once its ports are bound. Test
 * processes listen on port 0 and report the ports they got here: a port picked free beforehand can
 * be taken by any socket (an outgoing connection too) before the process binds it.
 */
export async function waitForListening(
  proc: ManagedProcess,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const line = await waitForLogLine(proc.logPath, /^\{.*"msg":"listening".*\}$/m, {
    process: proc,
    timeoutMs,
  });
  return JSON.parse(line[0]) as Record<string, unknown>;
}

/**
 * Throws when `args` set a log level that hides the info-level "listening" line the launchers read
 * their ports from: a process started so could not be found at all.
 */
export function requireListeningLogged(args: readonly string[], what: string): void {
  const at = args.lastIndexOf("--log-level");
  const level = at >= 0 ? args[at + 1] : undefined;
  if (level && !["trace", "debug", "info"].includes(level))
    throw new Error(
      `${what}: --log-level ${level} hides the "listening" line its ports are read from; use info`,
    );
}

/** `HOST:PORT` from a listening line's field; throws if the field is missing or not one. */
export function boundPort(listening: Record<string, unknown>, field: string): number {
  const value = listening[field];
  const port = typeof value === "string" ? Number(value.slice(value.lastIndexOf(":") + 1)) : NaN;
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`listening line has no ${field} address: ${JSON.stringify(listening)}`);
  return port;
}

export async function logTail(path: string, bytes = 4000): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return `--- tail of ${path} ---\n${text.slice(-bytes)}`;
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * Waits (at most 1 s) until a log file stops growing and returns its size: access lines are written
 * as each handler returns, a hair after the client saw the last byte.
 */
export async function waitForLogSettled(logPath: string): Promise<number> {
  let size = (await stat(logPath)).size;
  for (let i = 0; i < 20; i++) {
    await delay(50);
    const next = (await stat(logPath)).size;
    if (next === size) break;
    size = next;
  }
  return size;
}

/** A port the OS reports free on 127.0.0.1 right now (bind 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, bounded by `timeoutMs`; rejects on a non-zero exit with its stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr}`) as Error & {
            stdout?: string;
            stderr?: string;
          };
          e.stdout = stdout;
          e.stderr = stderr;
          reject(e);
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Runs `node SCRIPT args` to its exit (bounded by 15 s) and tells the exit code and both outputs. */
export function runNodeScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [script, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `peerpull-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Collects teardown steps; run() executes them last-in first-out and reports every failure. */
export class Teardown {
  private readonly steps: Array<() => Promise<void> | void> = [];

  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} teardown step(s) failed`);
  }
}
