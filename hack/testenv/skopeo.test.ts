import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildImage, pushImage, type OciLayout } from "./oci-image";
import { removeDir, tempDir } from "./processes";
import { startRegistry, type Registry } from "./registry";
import { compareDirs, skopeoCopyToDir } from "./skopeo";

const auth = { user: "carol", password: "pw2" };

describe("skopeoCopyToDir (real skopeo from a real registry)", () => {
  let reg: Registry;
  let image: OciLayout;
  let work: string;

  beforeAll(async () => {
    [reg, image, work] = await Promise.all([
      startRegistry({ auth }),
      buildImage({ layers: [2048, 1_200_000], seed: "skopeo" }),
      tempDir("skopeo-test"),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([reg?.stop(), image?.remove(), work ? removeDir(work) : undefined]);
  });

  test.each(["oci", "v2s2"] as const)("pulls a %s image back with the pushed digests", async format => {
    const pushed = await pushImage(image, reg, "team/app", format, { format, creds: auth });
    const pulled = await skopeoCopyToDir(pushed.ref, join(work, format), { creds: auth });
    expect(pulled.manifestDigest).toBe(pushed.digest);
    expect(pulled.manifest.equals(pushed.raw)).toBe(true);
    for (const layer of image.layers) expect(pulled.blobs.get(layer.digest)).toBe(layer.size);
    if (format === "oci") expect(pulled.blobs.get(image.config.digest)).toBe(image.config.size);
    const counts = await reg.blobGets();
    for (const layer of image.layers) expect(counts.get(layer.digest)?.gets).toBeGreaterThanOrEqual(1);
  });

  test("two pulls of the same image compare equal byte for byte; a changed byte does not", async () => {
    const ref = `${reg.host}/team/app:oci`;
    const a = await skopeoCopyToDir(ref, join(work, "a"), { creds: auth });
    await skopeoCopyToDir(`docker://${ref}`, join(work, "b"), { creds: auth });
    expect(await compareDirs(join(work, "a"), join(work, "b"))).toEqual({ equal: true, differences: [] });
    const victim = a.files.find(f => f.name !== "manifest.json" && f.name !== "version")!;
    await writeFile(join(work, "a", victim.name), "tampered");
    const diff = await compareDirs(join(work, "a"), join(work, "b"));
    expect(diff.equal).toBe(false);
    expect(diff.differences.join("\n")).toContain(victim.name);
  });

  test("wrong credentials fail the copy", async () => {
    await expect(
      skopeoCopyToDir(`${reg.host}/team/app:oci`, join(work, "denied"), {
        creds: { user: "carol", password: "x" },
      }),
    ).rejects.toThrow(/unauthorized|authentication/i);
  });
});
