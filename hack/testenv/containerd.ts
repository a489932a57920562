// A private containerd 1.6 (root) for pull tests: root, state, socket and CRI registry hosts dir all
// live under one temp dir, so it never meets a system containerd. Two ways to pull:
// - ctr (`ctr images pull`): the ctr process itself talks to the registry; --plain-http for
//   rewrite mode, --hosts-dir for mirror mode;
// - CRI (`runtime.v1.ImageService/PullImage` over the socket): containerd's CRI plugin pulls with
//   the request's credentials, exactly as kubelet makes it; it reads registry.config_path (hostsDir).
// Snapshotter: "native" by default (plain copies, no mounts, works on any filesystem including an
// overlay root in a container); "overlayfs" also works on this machine's ext4 /tmp.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  exists,
  removeDir,
  run,
  spawnLogged,
  tempDir,
  waitFor,
  waitForSocket,
  type ManagedProcess,
  type RunResult,
} from "./processes";
import type { Credentials } from "./registry";

export type Snapshotter = "native" | "overlayfs";

export interface ContainerdOptions {
  snapshotter?: Snapshotter;
  /** Default namespace for ctr helpers (CRI always uses "k8s.io"). Default "peerpull". */
  namespace?: string;
  /** Run containerd and ctr inside this network namespace (`ip netns exec NAME …`). */
  netns?: string;
}

export interface CtrPullOptions {
  /** --plain-http: talk HTTP to the registry named in the reference (rewrite mode). */
  plainHttp?: boolean;
  /** --hosts-dir: resolve registries through hosts.toml files (mirror mode). */
  hostsDir?: string;
  user?: Credentials;
  namespace?: string;
  timeoutMs?: number;
}

export interface CtrImage {
  ref: string;
  /** Digest of the manifest or index the image name points at. */
  digest: string;
  mediaType: string;
}

export interface CriPullRequest {
  image: string;
  auth?: { username: string; password: string; serverAddress?: string };
  timeoutMs?: number;
}

export interface Containerd {
  readonly dir: string;
  /** The gRPC unix socket path. */
  readonly socket: string;
  /** registry.config_path of the CRI plugin: write hosts.toml files here for CRI pulls. */
  readonly hostsDir: string;
  readonly logPath: string;
  readonly pid: number;
  readonly snapshotter: Snapshotter;
  readonly namespace: string;
  /** `ctr --address SOCK --namespace NS …args`. */
  ctr(args: string[], opts?: { namespace?: string; timeoutMs?: number }): Promise<RunResult>;
  /** `ctr images pull`; returns the pulled image as containerd records it. */
  ctrPull(ref: string, opts?: CtrPullOptions): Promise<CtrImage>;
  listImages(namespace?: string): Promise<CtrImage[]>;
  /** Digests of every blob in the content store of the namespace. */
  contentDigests(namespace?: string): Promise<Set<string>>;
  /** Removes every image and content blob of the namespace, so the next pull fetches again. */
  forgetAll(namespace?: string): Promise<void>;
  /** CRI ImageService/PullImage (namespace k8s.io); returns image_ref (the image id). */
  criPullImage(req: CriPullRequest): Promise<string>;
  stop(): Promise<void>;
}

export const CRI_NAMESPACE = "k8s.io";

function configToml(dir: string, snapshotter: Snapshotter): string {
  const q = (s: string) => JSON.stringify(s);
  return `version = 2
root = ${q(join(dir, "root"))}
state = ${q(join(dir, "state"))}
temp = ${q(join(dir, "tmp"))}
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${q(join(dir, "containerd.sock"))}

[ttrpc]
  address = ${q(join(dir, "containerd.sock.ttrpc"))}

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = ${q(join(dir, "opt"))}
  [plugins."io.containerd.grpc.v1.cri"]
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = ${q(snapshotter)}
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = ${q(join(dir, "cni"))}
      conf_dir = ${q(join(dir, "cni"))}
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ${q(join(dir, "certs.d"))}
`;
}

export async function startContainerd(opts: ContainerdOptions = {}): Promise<Containerd> {
  const dir = await tempDir("containerd");
  const snapshotter = opts.snapshotter ?? "native";
  const namespace = opts.namespace ?? "peerpull";
  const socket = join(dir, "containerd.sock");
  const hostsDir = join(dir, "certs.d");
  const logPath = join(dir, "containerd.log");
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    opts.netns ? ["ip", ["netns", "exec", opts.netns, cmd, ...args]] : [cmd, args];
  let proc: ManagedProcess | undefined;
  let cri: CriClient | undefined;
  try {
    for (const sub of ["root", "state", "tmp", "opt", "cni", "certs.d"]) await mkdir(join(dir, sub));
    const configPath = join(dir, "config.toml");
    await writeFile(configPath, configToml(dir, snapshotter));
    const [cmd, args] = wrap("containerd", ["--config", configPath]);
    proc = await spawnLogged(cmd, args, { logPath });
    await waitForSocket(socket, { process: proc, timeoutMs: 20_000 });

    const ctr = (args: string[], o: { namespace?: string; timeoutMs?: number } = {}) => {
      const [c, a] = wrap("ctr", ["--address", socket, "--namespace", o.namespace ?? namespace, ...args]);
      return run(c, a, {
        timeoutMs: o.timeoutMs ?? 120_000,
        env: { ...process.env, CONTAINERD_SNAPSHOTTER: "" },
      });
    };
    await waitFor(
      "ctr version",
      async () => ((await ctr(["version"], { timeoutMs: 5000 })) ? true : undefined),
      {
        process: proc,
        timeoutMs: 20_000,
      },
    );
    const client = loadCriClient(socket);
    cri = client;
    // The CRI plugin finishes initialising after the socket opens; a status call tells us it serves.
    await waitFor(
      "CRI ImageService",
      async () => {
        await client.imageStatus("peerpull.invalid/ready-probe:none", 5000);
        return true;
      },
      { process: proc, timeoutMs: 20_000, intervalMs: 200 },
    );

    const listImages = async (ns?: string): Promise<CtrImage[]> => {
      const { stdout } = await ctr(["images", "ls"], { namespace: ns });
      return parseImagesLs(stdout);
    };
    const p = proc;
    let stopped = false;
    return {
      dir,
      socket,
      hostsDir,
      logPath,
      pid: p.pid,
      snapshotter,
      namespace,
      ctr,
      async ctrPull(ref, o = {}) {
        const args = ["images", "pull", "--snapshotter", snapshotter];
        if (o.plainHttp) args.push("--plain-http");
        if (o.hostsDir) args.push("--hosts-dir", o.hostsDir);
        if (o.user) args.push("--user", `${o.user.user}:${o.user.password}`);
        args.push(ref);
        await ctr(args, { namespace: o.namespace, timeoutMs: o.timeoutMs });
        const image = (await listImages(o.namespace)).find(i => i.ref === ref);
        if (!image) throw new Error(`ctr pull ${ref} succeeded but the image is not listed`);
        return image;
      },
      listImages,
      async contentDigests(ns) {
        const { stdout } = await ctr(["content", "ls", "-q"], { namespace: ns });
        return new Set(stdout.split("\n").filter(l => /^sha256:[0-9a-f]{64}$/.test(l.trim())));
      },
      async forgetAll(ns) {
        const images = await listImages(ns);
        if (images.length > 0)
          await ctr(["images", "rm", "--sync", ...images.map(i => i.ref)], { namespace: ns });
        const { stdout } = await ctr(["content", "ls", "-q"], { namespace: ns });
        const digests = stdout.split("\n").filter(l => l.startsWith("sha256:"));
        if (digests.length > 0) await ctr(["content", "rm", ...digests], { namespace: ns });
      },
      criPullImage: req => client.pullImage(req),
      async stop() {
        if (stopped) return;
        stopped = true;
        client.close();
        await p.stop(10_000);
        await unmountUnder(dir);
        await removeDir(dir);
      },
    };
  } catch (err) {
    cri?.close();
    await proc?.stop(10_000);
    await unmountUnder(dir);
    await removeDir(dir);
    throw err;
  }
}

/** Parses `ctr images ls` (REF TYPE DIGEST SIZE PLATFORMS LABELS). */
export function parseImagesLs(stdout: string): CtrImage[] {
  return stdout
    .split("\n")
    .slice(1)
    .map(line => line.trim().split(/\s+/))
    .filter(cols => cols.length >= 3 && cols[2].startsWith("sha256:"))
    .map(([ref, mediaType, digest]) => ({ ref, mediaType, digest }));
}

/** Lazily unmounts whatever is still mounted under `dir` (overlayfs leftovers), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = await readFile("/proc/self/mounts", "utf8").catch(() => "");
  const points = mounts
    .split("\n")
    .map(l => l.split(" ")[1])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await run("umount", ["-l", p], { timeoutMs: 10_000 }).catch(() => undefined);
}

// --- hosts.toml -------------------------------------------------------------------------------

export interface MirrorHostsOptions {
  /**
   * The registry's own entry (`server`), used when the mirror answers 404 or fails to connect.
   * Default: a dead loopback port ("http://127.0.0.1:1"), so nothing ever leaves the box.
   */
  server?: string;
}

/**
 * Mirror mode: `hostsDir/<registryHost>/hosts.toml` sends pulls of `registryHost` to `mirrorUrl`
 * (e.g. the agent at http://127.0.0.1:PORT); containerd adds `?ns=<registryHost>`.
 */
export async function writeMirrorHosts(
  hostsDir: string,
  registryHost: string,
  mirrorUrl: string,
  opts: MirrorHostsOptions = {},
): Promise<string> {
  const server = opts.server ?? "http://127.0.0.1:1";
  const toml = `server = ${JSON.stringify(server)}

[host.${JSON.stringify(mirrorUrl)}]
  capabilities = ["pull", "resolve"]
`;
  return writeHostsToml(hostsDir, registryHost, toml);
}

/** Direct pulls over plain HTTP from `registryHost` (the CRI plugin has no --plain-http flag). */
export function writePlainHttpHost(hostsDir: string, registryHost: string): Promise<string> {
  return writeHostsToml(hostsDir, registryHost, `server = ${JSON.stringify(`http://${registryHost}`)}\n`);
}

async function writeHostsToml(hostsDir: string, registryHost: string, toml: string): Promise<string> {
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(registryHost)) throw new Error(`bad registry host: ${registryHost}`);
  const dir = join(hostsDir, registryHost);
  await mkdir(dir, { recursive: true });
  const path = join(dir, "hosts.toml");
  await writeFile(path, toml);
  return path;
}

// --- CRI over gRPC --------------------------------------------------------------------------------

interface CriClient {
  pullImage(req: CriPullRequest): Promise<string>;
  imageStatus(image: string, timeoutMs: number): Promise<unknown>;
  close(): void;
}

type Unary = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void,
) => void;

/** Finds hack/cri/api.proto from the source tree (jest) or the repo root (bundled bench). */
export async function criProtoPath(): Promise<string> {
  const candidates = [
    ...(typeof __dirname === "string" ? [resolve(__dirname, "../cri/api.proto")] : []),
    resolve(process.cwd(), "hack/cri/api.proto"),
  ];
  for (const c of candidates) if (await exists(c)) return c;
  throw new Error(`hack/cri/api.proto not found (looked in ${candidates.join(", ")})`);
}

function loadCriClient(socket: string): CriClient {
  let client: grpc.Client | undefined;
  const get = async (): Promise<grpc.Client> => {
    if (client) return client;
    const def = protoLoader.loadSync(await criProtoPath(), { keepCase: false, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { ImageService: grpc.ServiceClientConstructor } };
    };
    client = new pkg.runtime.v1.ImageService(`unix://${socket}`, grpc.credentials.createInsecure());
    return client;
  };
  const call = async (method: string, req: unknown, timeoutMs: number): Promise<Record<string, unknown>> => {
    const c = await get();
    const fn = (c as unknown as Record<string, Unary>)[method].bind(c);
    return new Promise((resolveCall, reject) => {
      fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err
          ? reject(new Error(`CRI ${method}: ${err.details || err.message}`, { cause: err }))
          : resolveCall(res),
      );
    });
  };
  return {
    async pullImage(req) {
      const res = await call(
        "PullImage",
        {
          image: { image: req.image },
          auth: req.auth
            ? {
                username: req.auth.username,
                password: req.auth.password,
                serverAddress: req.auth.serverAddress ?? "",
              }
            : undefined,
        },
        req.timeoutMs ?? 120_000,
      );
      return String(res.imageRef);
    },
    imageStatus: (image, timeoutMs) => call("ImageStatus", { image: { image } }, timeoutMs),
    close: () => client?.close(),
  };
}
