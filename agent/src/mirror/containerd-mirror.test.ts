import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createAgentMetrics } from "../metrics";
import { ContainerdMirror } from "./containerd-mirror";

let root: string;
let lines: { level: number; msg: string }[];
let metrics: ReturnType<typeof createAgentMetrics>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "containerd-mirror-"));
  lines = [];
  metrics = createAgentMetrics();
});
afterEach(() => rm(root, { recursive: true, force: true }));

function mirror(opts: { containerdConfig?: string } = {}): ContainerdMirror {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return new ContainerdMirror({
    hostsDir: join(root, "certs.d"),
    upstreams: [
      { host: "a.test", origin: "https://a.test" },
      { host: "b.test", origin: "https://b.test" },
    ],
    metrics,
    log: pino({ level: "debug" }, sink),
    ...opts,
  });
}

const value = async (name: string, labels: Record<string, string> = {}) => {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values
    .filter(v => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
};
const messages = () => lines.map(l => l.msg);

it("reports a conflict once, then takes the file over once the operator removes theirs", async () => {
  await mkdir(join(root, "certs.d", "b.test"), { recursive: true });
  await writeFile(join(root, "certs.d", "b.test", "hosts.toml"), 'server = "https://mine"\n');
  const m = mirror();
  await m.start({ host: "127.0.0.1", port: 65001 });
  expect(await value("peerpull_mirror_hosts_conflicts", { registry: "b.test" })).toBe(1);
  expect(await value("peerpull_mirror_hosts_files")).toBe(1);
  expect(m.currentConflicts()).toEqual([
    {
      registry: "b.test",
      path: join(root, "certs.d", "b.test", "hosts.toml"),
      reason: "hosts.toml not written by peerpull-agent",
    },
  ]);
  await m.reconcile();
  expect(messages().filter(msg => msg.includes("was not written by peerpull-agent"))).toHaveLength(1);

  await rm(join(root, "certs.d", "b.test", "hosts.toml"));
  await m.reconcile();
  expect(await value("peerpull_mirror_hosts_conflicts")).toBe(0);
  expect(m.currentConflicts()).toEqual([]);
  expect(await value("peerpull_mirror_hosts_files")).toBe(2);
  expect(messages()).toContain("mirror mode: hosts.toml conflict resolved");
  expect(await readFile(join(root, "certs.d", "b.test", "hosts.toml"), "utf8")).toContain("127.0.0.1:65001");
});

it("a pass that fails (a file where the hosts dir should be) is logged and counted, and start() carries on", async () => {
  await writeFile(join(root, "certs.d"), "not a directory");
  await mirror().start({ host: "127.0.0.1", port: 65001 });
  expect(await value("peerpull_mirror_hosts_failures_total")).toBe(1);
  expect(messages()).toContain("mirror mode: could not update containerd hosts.toml files");
});

it("warns plainly when containerd's config does not point the CRI plugin at the hosts dir", async () => {
  const config = join(root, "config.toml");
  await writeFile(config, 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n');
  await mirror({ containerdConfig: config }).start({ host: "127.0.0.1", port: 65001 });
  expect(await value("peerpull_mirror_cri_ignores_hosts_dir")).toBe(1);
  const warning = lines.find(l => l.msg.includes("config_path is not set"));
  expect(warning?.level).toBe(40);
  expect(warning?.msg).toContain("Kubelet pulls will not go through the agent");
});

it("stops: no pass after stop(), and the files stay", async () => {
  const m = mirror();
  await m.start({ host: "127.0.0.1", port: 65001 });
  await m.stop();
  await rm(join(root, "certs.d", "a.test", "hosts.toml"));
  await m.reconcile();
  await expect(readFile(join(root, "certs.d", "a.test", "hosts.toml"))).rejects.toThrow(/ENOENT/);
  expect(await readFile(join(root, "certs.d", "b.test", "hosts.toml"), "utf8")).toContain("managed-by");
});
