import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  buildImage,
  buildMultiArchImage,
  hostPlatform,
  MEDIA,
  pushImage,
  tarHeader,
  type OciLayout,
} from "./oci-image";
import { exists, run } from "./processes";
import { startRegistry, type Registry } from "./registry";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const auth = { user: "bob", password: "pw" };

describe("buildImage", () => {
  let a: OciLayout;
  let b: OciLayout;
  let c: OciLayout;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      buildImage({ layers: [0, 1000, 2_000_000], seed: 7, tag: "t1" }),
      buildImage({ layers: [0, 1000, 2_000_000], seed: 7, tag: "t1" }),
      buildImage({ layers: [0, 1000, 2_000_000], seed: 8, tag: "t1" }),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.remove(), b?.remove(), c?.remove()]);
  });

  test("the same seed gives the same digests; another seed, other layers", () => {
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(c.layers[1].digest).not.toBe(a.layers[1].digest);
    expect(c.layers[0].digest).not.toBe(a.layers[0].digest); // even empty layers differ by seed
  });

  test("every blob file hashes to its digest and has its size", async () => {
    expect(a.blobs.size).toBe(5); // 3 layers, config, manifest
    for (const d of a.blobs.values()) {
      const bytes = await readFile(join(a.dir, "blobs", "sha256", d.digest.slice(7)));
      expect(sha(bytes)).toBe(d.digest);
      expect(bytes.length).toBe(d.size);
    }
  });

  test("layers are gzip'd tars holding one file of the asked size; diff_ids match", async () => {
    const layer = a.layers[2];
    const gz = await readFile(join(a.dir, "blobs", "sha256", layer.digest.slice(7)));
    expect(sha(gunzipSync(gz))).toBe(layer.diffId);
    const { stdout } = await run("tar", ["-tvzf", join(a.dir, "blobs", "sha256", layer.digest.slice(7))]);
    expect(stdout).toMatch(/ 2000000 .* layer-2-[0-9a-f]{12}\.bin/);
    const config = JSON.parse(
      await readFile(join(a.dir, "blobs", "sha256", a.config.digest.slice(7)), "utf8"),
    );
    expect(config.rootfs.diff_ids).toEqual(a.layers.map(l => l.diffId));
    expect({ os: config.os, architecture: config.architecture }).toEqual(hostPlatform());
  });

  test("index.json tags the manifest", async () => {
    const index = JSON.parse(await readFile(join(a.dir, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(a.manifest.digest);
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("t1");
    expect(await exists(join(a.dir, "oci-layout"))).toBe(true);
  });

  test("tar headers carry a valid checksum", () => {
    const h = tarHeader("x.bin", 12345);
    const stored = parseInt(h.subarray(148, 154).toString("ascii"), 8);
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    expect(stored).toBe(copy.reduce((s, x) => s + x, 0));
  });

  test("remove() deletes the layout", async () => {
    const tmp = await buildImage({ layers: [10] });
    await tmp.remove();
    expect(await exists(tmp.dir)).toBe(false);
  });
});

describe("pushImage (real skopeo to a real registry)", () => {
  let reg: Registry;
  let image: OciLayout;
  let multi: OciLayout;

  beforeAll(async () => {
    [reg, image, multi] = await Promise.all([
      startRegistry({ auth }),
      buildImage({ layers: [5000, 1_500_000], seed: "push" }),
      buildMultiArchImage({
        seed: "multi",
        platforms: [
          { platform: { os: "linux", architecture: "amd64" }, layers: [3000] },
          { platform: { os: "linux", architecture: "arm64" }, layers: [4000] },
        ],
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([reg?.stop(), image?.remove(), multi?.remove()]);
  });

  const get = (path: string, accept: string) =>
    fetch(`${reg.url}${path}`, {
      headers: {
        accept,
        authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`,
      },
    });

  test("OCI format keeps the layout's manifest byte for byte", async () => {
    const pushed = await pushImage(image, reg, "team/app", "oci", { creds: auth });
    expect(pushed.digest).toBe(image.manifest.digest);
    expect(pushed.mediaType).toBe(MEDIA.ociManifest);
    expect(pushed.ref).toBe(`${reg.host}/team/app:oci`);
    const res = await get("/v2/team/app/manifests/oci", MEDIA.ociManifest);
    expect(res.headers.get("docker-content-digest")).toBe(image.manifest.digest);
    for (const layer of image.layers) {
      const blob = Buffer.from(await (await get(`/v2/team/app/blobs/${layer.digest}`, "*/*")).arrayBuffer());
      expect(sha(blob)).toBe(layer.digest);
    }
  });

  test("v2s2 format converts media types, keeps the layer blobs", async () => {
    const pushed = await pushImage(image, reg, "team/app", "v2", { format: "v2s2", creds: auth });
    expect(pushed.mediaType).toBe(MEDIA.dockerManifest);
    expect(pushed.digest).not.toBe(image.manifest.digest);
    const res = await get("/v2/team/app/manifests/v2", MEDIA.dockerManifest);
    expect(res.headers.get("docker-content-digest")).toBe(pushed.digest);
    const manifest = JSON.parse(pushed.raw.toString("utf8"));
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(image.layers.map(l => l.digest));
  });

  test("a multi-arch layout pushes as an image index over both platforms", async () => {
    const pushed = await pushImage(multi, reg, "team/multi", "v1", { creds: auth });
    expect(pushed.digest).toBe(multi.top.digest);
    expect(pushed.mediaType).toBe(MEDIA.ociIndex);
    expect(multi.platforms?.map(p => p.platform.architecture)).toEqual(["amd64", "arm64"]);
    for (const p of multi.platforms ?? []) {
      const res = await get(`/v2/team/multi/manifests/${p.manifest.digest}`, MEDIA.ociManifest);
      expect(res.status).toBe(200);
    }
  });

  test("without credentials the push fails", async () => {
    await expect(pushImage(image, reg, "team/app", "nocreds")).rejects.toThrow(
      /unauthorized|authentication/i,
    );
  });
});
