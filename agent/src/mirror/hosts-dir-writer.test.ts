import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyHostsActions, reconcileHostsDir, snapshotHostsDir } from "./hosts-dir-writer";
import { MANAGED_MARKER, planHostsDir, renderHostsToml } from "./hosts-toml";

const AGENT = "http://127.0.0.1:65001";
const A = { registry: "a.test", server: "https://a.test" };
const B = { registry: "b.test", server: "https://b.test" };
const FOREIGN =
  'server = "https://mine.example"\n\n[host."https://cache.example"]\n  capabilities = ["pull"]\n';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "hosts-dir-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const hostsFile = (dir: string) => join(root, dir, "hosts.toml");
const read = (dir: string) => readFile(hostsFile(dir), "utf8");
async function put(dir: string, name: string, text: string): Promise<void> {
  await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, dir, name), text);
}

it("writes one hosts.toml per registry, readable by all, and nothing else", async () => {
  const report = await reconcileHostsDir(root, [A, B], AGENT);
  expect(report.written).toEqual(["a.test", "b.test"]);
  expect(await read("a.test")).toBe(renderHostsToml(A, AGENT));
  expect((await stat(hostsFile("a.test"))).mode & 0o777).toBe(0o644);
  expect(await readdir(join(root, "a.test"))).toEqual(["hosts.toml"]);
});

it("creates the hosts dir itself when it does not exist yet", async () => {
  const nested = join(root, "certs.d");
  expect((await reconcileHostsDir(nested, [A], AGENT)).written).toEqual(["a.test"]);
  expect(await readFile(join(nested, "a.test", "hosts.toml"), "utf8")).toContain(MANAGED_MARKER);
});

it("leaves an up-to-date file alone and rewrites its own stale one", async () => {
  await reconcileHostsDir(root, [A], AGENT);
  const before = await stat(hostsFile("a.test"));
  expect((await reconcileHostsDir(root, [A], AGENT)).unchanged).toEqual(["a.test"]);
  expect((await stat(hostsFile("a.test"))).ino).toBe(before.ino);

  const moved = await reconcileHostsDir(root, [A], "http://127.0.0.1:7000");
  expect(moved.written).toEqual(["a.test"]);
  expect(await read("a.test")).toContain('[host."http://127.0.0.1:7000"]');
});

it("never touches a hosts.toml it did not write, and reports it", async () => {
  await put("a.test", "hosts.toml", FOREIGN);
  const before = await stat(hostsFile("a.test"));
  const report = await reconcileHostsDir(root, [A, B], AGENT);
  expect(report.conflicts).toEqual([
    { registry: "a.test", path: hostsFile("a.test"), reason: "hosts.toml not written by peerpull-agent" },
  ]);
  expect(report.written).toEqual(["b.test"]);
  expect(await read("a.test")).toBe(FOREIGN);
  expect((await stat(hostsFile("a.test"))).mtimeMs).toBe(before.mtimeMs);
  // ... nor removes it when asked to clean up.
  expect((await reconcileHostsDir(root, [], AGENT)).removed).toEqual(["b.test"]);
  expect(await read("a.test")).toBe(FOREIGN);
});

const conflictRows = [
  {
    name: "Docker-style certificate files (a hosts.toml would make containerd ignore them)",
    setup: () => put("a.test", "ca.crt", "PEM"),
    reason: /ca\.crt/,
  },
  {
    name: "a symlinked registry directory",
    setup: async () => {
      await mkdir(join(root, "elsewhere"));
      await symlink(join(root, "elsewhere"), join(root, "a.test"));
    },
    reason: /not a plain directory/,
    untouched: "elsewhere",
  },
  {
    name: "hosts.toml that is a directory",
    setup: () => mkdir(join(root, "a.test", "hosts.toml"), { recursive: true }),
    reason: /not a regular file/,
  },
];
it.each(conflictRows)("conflict: $name", async row => {
  await row.setup();
  const report = await reconcileHostsDir(root, [A], AGENT);
  expect(report.written).toEqual([]);
  expect(report.conflicts[0].reason).toMatch(row.reason);
  if (row.untouched) expect(await readdir(join(root, row.untouched))).toEqual([]);
});

it("a host_port_ directory (read first by containerd) is a conflict for host:port", async () => {
  await put("r.test_5000_", "hosts.toml", FOREIGN);
  const report = await reconcileHostsDir(
    root,
    [{ registry: "r.test:5000", server: "http://r.test:5000" }],
    AGENT,
  );
  expect(report.conflicts).toHaveLength(1);
  expect(await readdir(root)).toEqual(["r.test_5000_"]);
});

it("removes its own files for registries that left the config, keeping others' files in that dir", async () => {
  await reconcileHostsDir(root, [A, B], AGENT);
  await put("b.test", "ca.crt", "PEM");
  const report = await reconcileHostsDir(root, [A], AGENT);
  expect(report.removed).toEqual(["b.test"]);
  expect(await readdir(join(root, "b.test"))).toEqual(["ca.crt"]);
  expect(await read("a.test")).toContain(MANAGED_MARKER);

  expect((await reconcileHostsDir(root, [], AGENT)).removed).toEqual(["a.test"]);
  expect(await readdir(root)).toEqual(["b.test"]); // its own empty directory went too
});

it("a file created by someone else after the snapshot is not replaced (link, not rename)", async () => {
  const plan = planHostsDir(
    [{ registry: "a.test", text: renderHostsToml(A, AGENT) }],
    await snapshotHostsDir(root),
  );
  await put("a.test", "hosts.toml", FOREIGN);
  const report = await applyHostsActions(root, plan);
  expect(report.conflicts[0].reason).toMatch(/appeared/);
  expect(await read("a.test")).toBe(FOREIGN);
  expect(await readdir(join(root, "a.test"))).toEqual(["hosts.toml"]); // temp file gone
});

it("a managed file taken over after the snapshot is neither replaced nor removed", async () => {
  await reconcileHostsDir(root, [A, B], "http://127.0.0.1:1");
  const plan = planHostsDir(
    [{ registry: "a.test", text: renderHostsToml(A, AGENT) }],
    await snapshotHostsDir(root),
  );
  await put("a.test", "hosts.toml", FOREIGN);
  await put("b.test", "hosts.toml", FOREIGN);
  const report = await applyHostsActions(root, plan);
  expect(report.conflicts.map(c => c.registry)).toEqual(["a.test"]);
  expect(report.removed).toEqual([]);
  expect(await read("a.test")).toBe(FOREIGN);
  expect(await read("b.test")).toBe(FOREIGN);
});

it("drops temp files a crash left behind", async () => {
  await put("a.test", ".hosts.toml.peerpull-0123456789ab", "half");
  await reconcileHostsDir(root, [A], AGENT);
  expect(await readdir(join(root, "a.test"))).toEqual(["hosts.toml"]);
  expect((await lstat(hostsFile("a.test"))).isFile()).toBe(true);
});
