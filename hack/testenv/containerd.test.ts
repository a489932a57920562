import { buildImage, pushImage, type OciLayout, type PushedManifest } from "./oci-image";
import { readlink, stat } from "node:fs/promises";
import { exists, run } from "./processes";
import { startRegistry, type Registry } from "./registry";
import {
  CRI_NAMESPACE,
  parseImagesLs,
  startContainerd,
  writeMirrorHosts,
  writePlainHttpHost,
  type Containerd,
} from "./containerd";

const auth = { user: "dave", password: "pw3" };

describe("private containerd (real containerd 1.6, ctr and CRI)", () => {
  let open: Registry;
  let closed: Registry;
  let image: OciLayout;
  let cd: Containerd;
  const pushed: Record<string, PushedManifest> = {};

  beforeAll(async () => {
    [open, closed, image, cd] = await Promise.all([
      startRegistry(),
      startRegistry({ auth }),
      buildImage({ layers: [3000, 1_100_000], seed: "containerd" }),
      startContainerd(),
    ]);
    pushed.oci = await pushImage(image, open, "team/app", "oci");
    pushed.v2s2 = await pushImage(image, open, "team/app", "v2s2", { format: "v2s2" });
    pushed.private = await pushImage(image, closed, "team/private", "v1", { creds: auth });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([cd?.stop(), open?.stop(), closed?.stop(), image?.remove()]);
  }, 30_000);

  const expectContent = async (ns?: string) => {
    const digests = await cd.contentDigests(ns);
    for (const layer of image.layers) expect(digests.has(layer.digest)).toBe(true);
  };

  test("keeps socket, state and hosts dir under its own temp dir", () => {
    expect(cd.socket.startsWith(cd.dir)).toBe(true);
    expect(cd.hostsDir.startsWith(cd.dir)).toBe(true);
    expect(cd.snapshotter).toBe("native");
  });

  test.each(["oci", "v2s2"])(
    "ctr pulls a %s image over plain HTTP straight from the registry",
    async format => {
      await cd.forgetAll();
      const ref = `${open.host}/team/app:${format}`;
      const before = await open.mark();
      const img = await cd.ctrPull(ref, { plainHttp: true });
      expect(img.digest).toBe(pushed[format].digest);
      expect(img.mediaType).toBe(pushed[format].mediaType);
      await expectContent();
      const gets = await open.blobGets(before);
      for (const layer of image.layers)
        expect(gets.get(layer.digest)).toEqual({ gets: 1, bytes: layer.size });
    },
  );

  test("ctr pulls with --user from an htpasswd registry, and fails without it", async () => {
    await cd.forgetAll();
    const ref = `${closed.host}/team/private:v1`;
    await expect(cd.ctrPull(ref, { plainHttp: true })).rejects.toThrow(/401|unauthorized/i);
    const img = await cd.ctrPull(ref, { plainHttp: true, user: auth });
    expect(img.digest).toBe(pushed.private.digest);
    await expectContent();
  });

  test("mirror mode: hosts.toml sends a registry's pulls to the mirror with ?ns=<registry>", async () => {
    await cd.forgetAll();
    // The "mirror" here is the origin registry itself, which ignores ?ns; the named registry does not exist.
    const hostsToml = await writeMirrorHosts(cd.hostsDir, "registry.test", open.url);
    expect(hostsToml).toBe(`${cd.hostsDir}/registry.test/hosts.toml`);
    const before = await open.mark();
    const img = await cd.ctrPull("registry.test/team/app:oci", { hostsDir: cd.hostsDir });
    expect(img.digest).toBe(pushed.oci.digest);
    const paths = (await open.accessLog(before)).map(e => e.path);
    expect(paths).toContain(`/v2/team/app/blobs/${image.layers[1].digest}?ns=registry.test`);
  });

  test("mirror mode with a dead mirror fails instead of leaving the box", async () => {
    await writeMirrorHosts(cd.hostsDir, "dead.test", "http://127.0.0.1:1");
    await expect(
      cd.ctrPull("dead.test/team/app:oci", { hostsDir: cd.hostsDir, timeoutMs: 30_000 }),
    ).rejects.toThrow(/connection refused|failed/i);
  });

  test("CRI PullImage with auth pulls from an htpasswd registry; without auth it is refused", async () => {
    await writePlainHttpHost(cd.hostsDir, closed.host);
    const image_ = `${closed.host}/team/private:v1`;
    await expect(cd.criPullImage({ image: image_ })).rejects.toThrow(/401|unauthorized/i);
    const ref = await cd.criPullImage({
      image: image_,
      auth: { username: auth.user, password: auth.password },
    });
    expect(ref).toBe(image.config.digest); // CRI's image id is the config digest
    await expectContent(CRI_NAMESPACE);
    const images = await cd.listImages(CRI_NAMESPACE);
    expect(images.find(i => i.ref === image_)?.digest).toBe(pushed.private.digest);
  });

  test("CRI PullImage in mirror mode goes through hosts.toml in hostsDir, with ?ns=", async () => {
    await writeMirrorHosts(cd.hostsDir, "mirror.test", open.url);
    const before = await open.mark();
    const ref = await cd.criPullImage({ image: "mirror.test/team/app:v2s2" });
    expect(ref).toBe(JSON.parse(pushed.v2s2.raw.toString("utf8")).config.digest);
    const paths = (await open.accessLog(before)).map(e => e.path);
    expect(paths).toContain("/v2/team/app/manifests/v2s2?ns=mirror.test");
  });

  test("stop() removes everything", async () => {
    const other = await startContainerd({ snapshotter: "overlayfs" });
    expect(await exists(other.socket)).toBe(true);
    await other.stop();
    expect(await exists(other.dir)).toBe(false);
    expect(() => process.kill(other.pid, 0)).toThrow();
  });
});

test("parseImagesLs reads ctr's table", () => {
  const out = [
    "REF                          TYPE                                                 DIGEST                                                                  SIZE    PLATFORMS   LABELS",
    `127.0.0.1:5000/team/app:oci application/vnd.oci.image.manifest.v1+json sha256:${"b".repeat(64)} 1.1 MiB linux/amd64 -`,
  ].join("\n");
  expect(parseImagesLs(out)).toEqual([
    {
      ref: "127.0.0.1:5000/team/app:oci",
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: `sha256:${"b".repeat(64)}`,
    },
  ]);
});

test("containerd can run inside a network namespace (for multi-node benches)", async () => {
  const ns = `pptest-${process.pid}`;
  await run("ip", ["netns", "add", ns]);
  let cd: Containerd | undefined;
  try {
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    cd = await startContainerd({ netns: ns });
    const { stdout } = await cd.ctr(["version"]);
    expect(stdout).toMatch(/Server:/);
    // The daemon's PID is the one that was spawned (ip netns exec execs into containerd).
    const link = await readlink(`/proc/${cd.pid}/ns/net`);
    const nsInode = (await stat(`/run/netns/${ns}`)).ino;
    expect(link).toBe(`net:[${nsInode}]`);
  } finally {
    await cd?.stop();
    await run("ip", ["netns", "del", ns]);
  }
});
