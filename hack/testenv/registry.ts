// A real origin registry for tests and benches: Debian's `docker-registry` (distribution 2.8) with
// filesystem storage in a temp dir, listening on 127.0.0.1 on a port it picks itself (":0", read
// back from its "listening on" log line, so there is no bind race), optional htpasswd auth.
// Blob GETs are counted from the registry's own access log (Apache combined format on stdout, one
// line per request, written when the handler returns, with the bytes actually written).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  removeDir,
  run,
  spawnLogged,
  tempDir,
  waitForHttp,
  waitForLogLine,
  waitForLogSettled,
  type ManagedProcess,
} from "./processes";

export interface Credentials {
  user: string;
  password: string;
}

export interface RegistryOptions {
  /** htpasswd (Basic) auth for every /v2/ request when set. */
  auth?: Credentials;
  /** Extra config lines, e.g. a token issuer's `auth.token` section (per-repository access). */
  configLines?: string[];
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  bytes: number;
  /** The client's User-Agent ("" when the line has none): tells the agent from containerd. */
  userAgent: string;
}

export interface BlobServed {
  /** GET requests for this blob answered 200 or 206. */
  gets: number;
  /** Body bytes the registry wrote for those requests. */
  bytes: number;
}

/** A position in the access log; pass it to blobGets()/accessLog() to count only later requests. */
export type LogMark = number;

export interface Registry {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT (the registry host part of image references) */
  readonly host: string;
  readonly port: number;
  readonly auth?: Credentials;
  readonly logPath: string;
  /** The filesystem storage root (for tests that lay out many blobs faster than pushes can). */
  readonly storageDir: string;
  readonly pid: number;
  /** Current end of the access log (after letting in-flight log lines land). */
  mark(): Promise<LogMark>;
  /** Every request the registry logged, optionally only those after `since`. */
  accessLog(since?: LogMark): Promise<AccessLogEntry[]>;
  /** Successful blob GETs per digest ("sha256:…"), optionally only those after `since`. */
  blobGets(since?: LogMark): Promise<Map<string, BlobServed>>;
  stop(): Promise<void>;
}

const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-)(?: "[^"]*" "([^"]*)")?/;
const BLOB_PATH = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})(?:\?.*)?$/;

export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("{")) continue; // JSON app log lines
    const m = ACCESS_LINE.exec(line);
    if (!m) continue;
    entries.push({
      method: m[1],
      path: m[2],
      status: Number(m[3]),
      bytes: m[4] === "-" ? 0 : Number(m[4]),
      userAgent: m[5] ?? "",
    });
  }
  return entries;
}

export function countBlobGets(entries: AccessLogEntry[]): Map<string, BlobServed> {
  const counts = new Map<string, BlobServed>();
  for (const e of entries) {
    if (e.method !== "GET" || (e.status !== 200 && e.status !== 206)) continue;
    const m = BLOB_PATH.exec(e.path);
    if (!m) continue;
    const c = counts.get(m[1]) ?? { gets: 0, bytes: 0 };
    c.gets += 1;
    c.bytes += e.bytes;
    counts.set(m[1], c);
  }
  return counts;
}

/**
 * A bcrypt htpasswd line ("user:$2b$04$…"), made with Python's crypt module (cost 4 keeps each
 * authenticated request cheap); falls back to `htpasswd -nbB` (apache2-utils) where crypt is gone.
 */
export async function htpasswdLine(user: string, password: string): Promise<string> {
  const script =
    "import crypt,sys; print(sys.argv[1] + ':' + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))";
  try {
    const { stdout } = await run("python3", ["-W", "ignore", "-c", script, user, password], {
      timeoutMs: 15_000,
    });
    const line = stdout.trim();
    if (/^[^:]+:\$2[aby]\$\d\d\$.{53}$/.test(line)) return line;
  } catch {
    // fall through to htpasswd
  }
  const { stdout } = await run("htpasswd", ["-nbB", "-C", "4", user, password], { timeoutMs: 15_000 });
  return stdout.trim();
}

/**
 * docker-registry config (as YAML lines): filesystem storage, JSON logs with the access log the blob
 * counts are read from, deletes on, storage health checks off.
 */
export function registryConfigLines(rootDir: string, addr: string): string[] {
  return [
    "version: 0.1",
    "log:",
    "  level: info",
    "  formatter: json",
    "  accesslog:",
    "    disabled: false",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${rootDir}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: ${addr}`,
    `  secret: ${randomBytes(16).toString("hex")}`,
    "health:",
    "  storagedriver:",
    "    enabled: false",
  ];
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await tempDir("registry");
  let proc: ManagedProcess | undefined;
  try {
    const logPath = join(dir, "registry.log");
    const lines = registryConfigLines(join(dir, "data"), "127.0.0.1:0");
    if (opts.auth) {
      const htpasswd = join(dir, "htpasswd");
      await writeFile(htpasswd, (await htpasswdLine(opts.auth.user, opts.auth.password)) + "\n");
      lines.push("auth:", "  htpasswd:", "    realm: peerpull-test", `    path: ${htpasswd}`);
    }
    lines.push(...(opts.configLines ?? []));
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, lines.join("\n") + "\n");

    // A clean env: docker-registry reads REGISTRY_* variables as config overrides.
    const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir };
    proc = await spawnLogged("docker-registry", ["serve", configPath], { logPath, env });
    const listening = await waitForLogLine(logPath, /listening on 127\.0\.0\.1:(\d+)/, {
      process: proc,
      timeoutMs: 15_000,
    });
    const port = Number(listening[1]);
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    await waitForHttp(`${url}/v2/`, { process: proc, timeoutMs: 15_000, statuses: [200, 401] });

    const p = proc;
    const settle = () => waitForLogSettled(logPath);
    const read = async (since = 0): Promise<AccessLogEntry[]> => {
      await settle();
      const buf = await readFile(logPath);
      return parseAccessLog(buf.subarray(since).toString("utf8"));
    };
    let stopped = false;
    return {
      url,
      host,
      port,
      auth: opts.auth,
      logPath,
      storageDir: join(dir, "data"),
      pid: p.pid,
      mark: settle,
      accessLog: read,
      blobGets: async since => countBlobGets(await read(since)),
      async stop() {
        if (stopped) return;
        stopped = true;
        await p.stop();
        await removeDir(dir);
      },
    };
  } catch (err) {
    await proc?.stop();
    await removeDir(dir);
    throw err;
  }
}
