/**
 * Mirror mode end to end with a real containerd: the agent writes `hosts.toml` into the directory
 * containerd's CRI plugin reads (`registry.config_path`), and images keep their names. Pulls go
 * through the agent with `ctr --hosts-dir` and through CRI PullImage (the kubelet path, the pod's
 * pull secret as `auth`); with the agent stopped, the same files send containerd to the registry;
 * a hosts.toml someone else wrote is left byte for byte. The registry's access log tells the
 * agent's requests (User-Agent peerpull-agent) from containerd's own.
 */
import { readFile, readdir, writeFile, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AgentConflictsProbe } from "../capabilities/reconciler/agent-conflicts";
import { conflictsStatus } from "../capabilities/reconciler/mirror-conflicts-status";
import { AGENT_BIN, AgentProcess, startAgent } from "../hack/testenv/agent";
import { Containerd, startContainerd } from "../hack/testenv/containerd";
import { buildImage, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { run, Teardown } from "../hack/testenv/processes";
import { AccessLogEntry, Registry, startRegistry } from "../hack/testenv/registry";

jest.setTimeout(240_000);

const CREDS = { user: "bob", password: "pull-secret" };
const FOREIGN = `# the platform team's own mirror
server = "https://foreign.test"

[host."https://cache.foreign.test"]
  capabilities = ["pull", "resolve"]
`;
const teardown = new Teardown();
let registry: Registry;
let privateRegistry: Registry;
let containerd: Containerd;
let agent: AgentProcess;
let layout: OciLayout;
let foreignPath: string;

const upstreams = () => [
  `registry.test=${registry.url}`,
  `private.test=${privateRegistry.url}`,
  `foreign.test=${registry.url}`,
];
const mirrorArgs = () => [
  "--containerd-hosts-dir",
  containerd.hostsDir,
  "--containerd-config",
  join(containerd.dir, "config.toml"),
];

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  privateRegistry = await startRegistry({ auth: CREDS });
  teardown.add(() => privateRegistry.stop());
  containerd = await startContainerd();
  teardown.add(() => containerd.stop());
  layout = await buildImage({ layers: [1024 * 1024, 300_000], seed: 13 });
  teardown.add(() => layout.remove());
  await pushImage(layout, registry, "team/app", "1");
  await pushImage(layout, privateRegistry, "team/secret", "1", { creds: CREDS });

  foreignPath = join(containerd.hostsDir, "foreign.test", "hosts.toml");
  await mkdir(join(containerd.hostsDir, "foreign.test"));
  await writeFile(foreignPath, FOREIGN);
  agent = await startAgent({ upstreams: upstreams(), args: mirrorArgs() });
  teardown.add(() => agent.stop());
});
afterAll(() => teardown.run());

const hostsToml = (registryHost: string) =>
  readFile(join(containerd.hostsDir, registryHost, "hosts.toml"), "utf8");
const fromContainerd = (entries: AccessLogEntry[]) =>
  entries.filter(e => e.userAgent.startsWith("containerd"));
const fromAgent = (entries: AccessLogEntry[]) => entries.filter(e => e.userAgent === "peerpull-agent");

/** Request URLs the agent logged (debug "request" lines) that carry `ns=<registryHost>`. */
async function agentSawNs(registryHost: string): Promise<string[]> {
  const lines = (await readFile(agent.logPath, "utf8")).split("\n").filter(Boolean);
  return lines
    .map(line => JSON.parse(line) as { msg?: string; url?: string })
    .filter(entry => entry.msg === "request" && entry.url?.includes(`ns=${registryHost}`))
    .map(entry => entry.url as string);
}

async function expectAllLayers(namespace?: string): Promise<void> {
  const content = await containerd.contentDigests(namespace);
  for (const layer of layout.layers) expect(content.has(layer.digest)).toBe(true);
}

it("writes hosts.toml per registry (agent first, registry as server), leaves the foreign one alone and says so", async () => {
  const text = await hostsToml("registry.test");
  expect(text.split("\n")[0]).toBe("# managed-by: peerpull-agent");
  expect(text).toContain(`server = "${registry.url}"`);
  expect(text).toContain(`[host."${agent.url}"]\n  capabilities = ["pull", "resolve"]`);
  expect(await hostsToml("private.test")).toContain(`server = "${privateRegistry.url}"`);

  expect(await readFile(foreignPath, "utf8")).toBe(FOREIGN);
  expect(await agent.metric("peerpull_mirror_hosts_conflicts", { registry: "foreign.test" })).toBe(1);
  expect(await agent.metric("peerpull_mirror_hosts_files")).toBe(2);
  const log = await readFile(agent.logPath, "utf8");
  expect(log).toContain(`${foreignPath} was not written by peerpull-agent`);
  // The test containerd's config.toml sets config_path to this directory.
  expect(await agent.metric("peerpull_mirror_cri_ignores_hosts_dir")).toBe(0);
});

it("serves the conflict on GET /mirror/conflicts, which the reconciler's probe reads into the status", async () => {
  const res = await fetch(`${agent.peerUrl}/mirror/conflicts`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  const reason = "hosts.toml not written by peerpull-agent";
  expect(await res.json()).toEqual({
    mirror: true,
    conflicts: [{ registry: "foreign.test", path: foreignPath, reason }],
  });
  const probe = new AgentConflictsProbe({ port: Number(new URL(agent.peerUrl).port) });
  const reading = await probe.read([
    { name: "peerpull-agent-a", node: "node-a", ip: "127.0.0.1", ready: true },
  ]);
  expect(reading).toEqual({
    agents: 1,
    answered: 1,
    failed: [],
    conflicts: [{ node: "node-a", registry: "foreign.test", reason }],
  });
  const { listed, verdict } = conflictsStatus(reading);
  expect(listed).toEqual(reading.conflicts);
  expect(verdict).toMatchObject({ status: "True", reason: "ForeignHostsFiles" });
});

it("ctr --hosts-dir pulls a public and a private image through the agent (?ns= seen, nothing direct)", async () => {
  const mark = await registry.mark();
  const privateMark = await privateRegistry.mark();
  await containerd.ctrPull("registry.test/team/app:1", { hostsDir: containerd.hostsDir });
  await expectAllLayers();
  await containerd.forgetAll();
  await containerd.ctrPull("private.test/team/secret:1", { hostsDir: containerd.hostsDir, user: CREDS });
  await expectAllLayers();

  expect((await agentSawNs("registry.test")).some(url => url.includes("/manifests/1"))).toBe(true);
  expect((await agentSawNs("private.test")).some(url => url.includes("/blobs/"))).toBe(true);
  for (const reg of [
    { log: await registry.accessLog(mark) },
    { log: await privateRegistry.accessLog(privateMark) },
  ]) {
    expect(fromContainerd(reg.log)).toEqual([]);
    expect(fromAgent(reg.log).length).toBeGreaterThan(0);
  }
});

it("CRI PullImage (kubelet path) pulls public and private images through the agent, credentials from auth", async () => {
  await containerd.forgetAll("k8s.io");
  const mark = await registry.mark();
  expect(await containerd.criPullImage({ image: "registry.test/team/app:1" })).toBe(layout.config.digest);
  await containerd.forgetAll("k8s.io");

  // No credentials: the agent challenges (401), and containerd 1.6, having nothing to answer the
  // challenge with, tries the next host, the registry, which refuses too. Nothing is served.
  const anonymousMark = await privateRegistry.mark();
  await expect(containerd.criPullImage({ image: "private.test/team/secret:1" })).rejects.toThrow();
  const direct = fromContainerd(await privateRegistry.accessLog(anonymousMark));
  expect(direct.every(entry => entry.status === 401)).toBe(true);

  const privateMark = await privateRegistry.mark();
  const ref = await containerd.criPullImage({
    image: "private.test/team/secret:1",
    auth: { username: CREDS.user, password: CREDS.password },
  });
  expect(ref).toBe(layout.config.digest);
  await expectAllLayers("k8s.io");
  expect(fromContainerd(await registry.accessLog(mark))).toEqual([]);
  expect(fromContainerd(await privateRegistry.accessLog(privateMark))).toEqual([]);
  expect((await agentSawNs("private.test")).length).toBeGreaterThan(0);
});

it("with the agent stopped its files stay, and containerd falls back to the registry (ctr and CRI)", async () => {
  const before = await hostsToml("registry.test");
  const agentUrl = agent.url;
  await agent.stop();
  expect(await hostsToml("registry.test")).toBe(before); // SIGTERM leaves the files
  expect((await fetch(`${agentUrl}/v2/`).catch(() => "refused")) === "refused").toBe(true);

  await containerd.forgetAll();
  await containerd.forgetAll("k8s.io");
  const mark = await registry.mark();
  const privateMark = await privateRegistry.mark();
  await containerd.ctrPull("registry.test/team/app:1", { hostsDir: containerd.hostsDir });
  await expectAllLayers();
  const ref = await containerd.criPullImage({
    image: "private.test/team/secret:1",
    auth: { username: CREDS.user, password: CREDS.password },
  });
  expect(ref).toBe(layout.config.digest);
  expect(fromContainerd(await registry.accessLog(mark)).length).toBeGreaterThan(0);
  expect(fromContainerd(await privateRegistry.accessLog(privateMark)).length).toBeGreaterThan(0);
  expect(await readFile(foreignPath, "utf8")).toBe(FOREIGN);
});

it("a restart without a registry removes that registry's file and repoints the rest", async () => {
  agent = await startAgent({ upstreams: [`registry.test=${registry.url}`], args: mirrorArgs() });
  teardown.add(() => agent.stop());
  expect(await readdir(containerd.hostsDir)).toEqual(
    expect.arrayContaining(["registry.test", "foreign.test"]),
  );
  await expect(stat(join(containerd.hostsDir, "private.test"))).rejects.toThrow(/ENOENT/);
  expect(await hostsToml("registry.test")).toContain(`[host."${agent.url}"]`);
  expect(await readFile(foreignPath, "utf8")).toBe(FOREIGN);
  expect(await agent.metric("peerpull_mirror_hosts_conflicts")).toBe(0);
  expect(await (await fetch(`${agent.peerUrl}/mirror/conflicts`)).json()).toEqual({
    mirror: true,
    conflicts: [],
  });

  await containerd.forgetAll("k8s.io");
  expect(await containerd.criPullImage({ image: "registry.test/team/app:1" })).toBe(layout.config.digest);
  expect((await agentSawNs("registry.test")).length).toBeGreaterThan(0);
});

it("--containerd-hosts-cleanup removes only the agent's files and exits without opening a port", async () => {
  const result = await run(
    process.execPath,
    [AGENT_BIN, "--containerd-hosts-dir", containerd.hostsDir, "--containerd-hosts-cleanup=true"],
    { timeoutMs: 30_000 },
  );
  expect(result.stdout).toContain("removed the agent's hosts.toml files");
  expect(await readdir(containerd.hostsDir)).toEqual(["foreign.test"]);
  expect(await readFile(foreignPath, "utf8")).toBe(FOREIGN);
});
