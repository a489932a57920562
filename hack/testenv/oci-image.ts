// Test images without internet: an OCI image layout in a temp dir, built from layer sizes. Each
// layer is a tar holding one file of pseudo-random bytes (AES-256-CTR keystream, so a seed gives
// the same bytes every run), gzip level 0 (valid and fast). Layers are streamed to disk, so a
// 1 GiB layer never sits in memory. pushImage() sends a layout to a registry with skopeo.
import { createCipheriv, createHash, randomBytes, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { removeDir, run, tempDir } from "./processes";
import type { Credentials, Registry } from "./registry";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface LayerDescriptor extends Descriptor {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** Bytes of random payload inside the tar (the size that was asked for). */
  payloadSize: number;
}

export interface Platform {
  os: string;
  architecture: string;
}

export interface ImageSpec {
  /** Payload bytes per layer; each blob is slightly larger (tar headers, gzip framing). */
  layers: number[];
  /** Same seed, same bytes and digests. Default: random. */
  seed?: string | number;
  /** Tag recorded in index.json (org.opencontainers.image.ref.name). Default "latest". */
  tag?: string;
  /** Default: this machine's platform (what ctr and CRI pull by default). */
  platform?: Platform;
}

export interface PlatformImage {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: LayerDescriptor[];
}

export interface OciLayout extends PlatformImage {
  /** The layout directory (oci:DIR:TAG for skopeo). */
  dir: string;
  tag: string;
  /** The descriptor index.json tags: the manifest, or the image index for multi-arch. */
  top: Descriptor;
  /** Set for multi-arch layouts: every platform's image. */
  platforms?: PlatformImage[];
  /** Every blob in the layout (config, layers, manifests, index) by digest. */
  blobs: Map<string, Descriptor>;
  /** Removes the layout directory. */
  remove(): Promise<void>;
}

/** This machine's OCI platform (Node's x64 → amd64). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    ia32: "386",
    s390x: "s390x",
    ppc64: "ppc64le",
  };
  return { os: "linux", architecture: arch[process.arch] ?? process.arch };
}

/** Builds a single-platform OCI layout in a fresh temp dir. */
export async function buildImage(spec: ImageSpec): Promise<OciLayout> {
  const dir = await tempDir("oci");
  try {
    const blobs = new Map<string, Descriptor>();
    const tag = spec.tag ?? "latest";
    const seed = String(spec.seed ?? randomBytes(16).toString("hex"));
    const image = await writePlatformImage(dir, blobs, spec.layers, seed, spec.platform ?? hostPlatform());
    await writeLayoutFiles(dir, image.manifest, tag);
    return { dir, tag, top: image.manifest, ...image, blobs, remove: () => removeDir(dir) };
  } catch (err) {
    await removeDir(dir);
    throw err;
  }
}

export interface MultiArchSpec {
  /** One image per platform, e.g. linux/amd64 and linux/arm64; layer bytes differ per platform. */
  platforms: Array<{ platform: Platform; layers: number[] }>;
  seed?: string | number;
  tag?: string;
}

/** Builds an OCI layout whose tag names an image index over several platform manifests. */
export async function buildMultiArchImage(spec: MultiArchSpec): Promise<OciLayout> {
  const dir = await tempDir("oci-multi");
  try {
    const blobs = new Map<string, Descriptor>();
    const tag = spec.tag ?? "latest";
    const seed = String(spec.seed ?? randomBytes(16).toString("hex"));
    const images: PlatformImage[] = [];
    for (const p of spec.platforms) {
      images.push(
        await writePlatformImage(
          dir,
          blobs,
          p.layers,
          `${seed}/${p.platform.os}/${p.platform.architecture}`,
          p.platform,
        ),
      );
    }
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: images.map(i => ({ ...i.manifest, platform: i.platform })),
    };
    const top = await writeJsonBlob(dir, blobs, MEDIA.ociIndex, index);
    await writeLayoutFiles(dir, top, tag);
    const host = hostPlatform();
    const main =
      images.find(i => i.platform.os === host.os && i.platform.architecture === host.architecture) ??
      images[0];
    return { dir, tag, top, ...main, platforms: images, blobs, remove: () => removeDir(dir) };
  } catch (err) {
    await removeDir(dir);
    throw err;
  }
}

async function writePlatformImage(
  dir: string,
  blobs: Map<string, Descriptor>,
  sizes: number[],
  seed: string,
  platform: Platform,
): Promise<PlatformImage> {
  const layers: LayerDescriptor[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const layerSeed = `${seed}/layer/${i}`;
    // The file name carries the seed too, so even empty layers differ between seeds.
    const name = `layer-${i}-${createHash("sha256").update(layerSeed).digest("hex").slice(0, 12)}.bin`;
    const layer = await writeLayer(dir, sizes[i], layerSeed, name);
    blobs.set(layer.digest, layer);
    layers.push(layer);
  }
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    config: {},
    rootfs: { type: "layers", diff_ids: layers.map(l => l.diffId) },
    history: layers.map((_, i) => ({ created_by: `peerpull testenv layer ${i}` })),
  };
  const configDesc = await writeJsonBlob(dir, blobs, MEDIA.ociConfig, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: configDesc,
    layers: layers.map(l => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestDesc = await writeJsonBlob(dir, blobs, MEDIA.ociManifest, manifest);
  return { platform, manifest: manifestDesc, config: configDesc, layers };
}

async function writeLayoutFiles(dir: string, top: Descriptor, tag: string): Promise<void> {
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = {
    schemaVersion: 2,
    manifests: [{ ...top, annotations: { "org.opencontainers.image.ref.name": tag } }],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
}

async function writeJsonBlob(
  dir: string,
  blobs: Map<string, Descriptor>,
  mediaType: string,
  value: unknown,
): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "blobs", "sha256", digest.slice(7)), bytes);
  const desc = { mediaType, digest, size: bytes.length };
  blobs.set(digest, desc);
  return desc;
}

const CHUNK = 1024 * 1024;

/** A ustar header for one regular file (mode 0644, uid/gid 0, mtime 0). */
export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`);
  if (size > 0o77777777777) throw new Error(`tar entry too large: ${size}`);
  const h = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    h.write(value, offset, length, "ascii");
  };
  const octal = (offset: number, length: number, value: number): void => {
    field(offset, length - 1, value.toString(8).padStart(length - 1, "0"));
  };
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.fill(0x20, 148, 156); // checksum counts as spaces while summing
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** The tar stream: header, `size` keystream bytes for `seed`, padding, two zero blocks. */
async function* tarStream(name: string, size: number, seed: string): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = size; left > 0; left -= CHUNK) {
    const n = Math.min(CHUNK, left);
    yield cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
  }
  const pad = (512 - (size % 512)) % 512;
  yield Buffer.alloc(pad + 1024);
}

class Hasher extends Transform {
  readonly hash: Hash = createHash("sha256");
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

async function writeLayer(
  dir: string,
  size: number,
  seed: string,
  fileName: string,
): Promise<LayerDescriptor> {
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  const tmp = join(dir, `.layer-${randomBytes(6).toString("hex")}`);
  const diff = new Hasher();
  const compressed = new Hasher();
  try {
    await pipeline(
      tarStream(fileName, size, seed),
      diff,
      createGzip({ level: 0 }),
      compressed,
      createWriteStream(tmp),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const hex = compressed.hash.digest("hex");
  await rename(tmp, join(blobDir, hex));
  return {
    mediaType: MEDIA.ociLayerGzip,
    digest: `sha256:${hex}`,
    size: compressed.bytes,
    diffId: `sha256:${diff.hash.digest("hex")}`,
    payloadSize: size,
  };
}

export interface PushOptions {
  /** "oci" keeps OCI media types; "v2s2" converts to Docker schema 2 (manifest digest changes). */
  format?: "oci" | "v2s2";
  creds?: Credentials;
  timeoutMs?: number;
}

export interface PushedManifest {
  /** Digest of the manifest (or index/list) as the registry stores it. */
  digest: string;
  mediaType: string;
  size: number;
  raw: Buffer;
  /** REGISTRYHOST/REPO:TAG */
  ref: string;
}

/** Pushes the layout's tag with `skopeo copy` and reads back what the registry stores for the tag. */
export async function pushImage(
  layout: OciLayout | string,
  registry: Pick<Registry, "host">,
  repo: string,
  tag: string,
  opts: PushOptions = {},
): Promise<PushedManifest> {
  const dir = typeof layout === "string" ? layout : layout.dir;
  const srcTag = typeof layout === "string" ? tag : layout.tag;
  const ref = `${registry.host}/${repo}:${tag}`;
  const multi = typeof layout !== "string" && layout.top.mediaType === MEDIA.ociIndex;
  const args = ["copy", "--retry-times", "0", "--dest-tls-verify=false"];
  if (opts.format === "v2s2") args.push("--format", "v2s2");
  if (opts.creds) args.push("--dest-creds", `${opts.creds.user}:${opts.creds.password}`);
  if (multi) args.push("--all");
  args.push(`oci:${dir}:${srcTag}`, `docker://${ref}`);
  await run("skopeo", args, { timeoutMs: opts.timeoutMs ?? 120_000 });
  return inspectRaw(ref, opts.creds);
}

/** `skopeo inspect --raw`: the manifest bytes the registry serves for `ref` (HOST/REPO:TAG). */
export async function inspectRaw(ref: string, creds?: Credentials): Promise<PushedManifest> {
  const args = ["inspect", "--raw", "--retry-times", "0", "--tls-verify=false"];
  if (creds) args.push("--creds", `${creds.user}:${creds.password}`);
  args.push(`docker://${ref}`);
  const { stdout } = await run("skopeo", args, { timeoutMs: 60_000 });
  const raw = Buffer.from(stdout, "utf8");
  const parsed = JSON.parse(stdout) as { mediaType?: string };
  return {
    digest: `sha256:${createHash("sha256").update(raw).digest("hex")}`,
    mediaType: parsed.mediaType ?? "",
    size: raw.length,
    raw,
    ref,
  };
}

/** skopeo's blob-info cache (root): it remembers blobs across runs and can skip transfers. */
export const SKOPEO_BLOB_INFO_CACHE_DIR = "/var/lib/containers/cache";

/** Removes skopeo's blob-info cache so a measured copy really moves every blob. */
export async function clearSkopeoBlobInfoCache(): Promise<void> {
  await rm(join(SKOPEO_BLOB_INFO_CACHE_DIR, "blob-info-cache-v1.boltdb"), { force: true });
}

/** Convenience for tests: a throwaway layout, built and removed around `use`. */
export async function withImage<T>(spec: ImageSpec, use: (layout: OciLayout) => Promise<T>): Promise<T> {
  const layout = await buildImage(spec);
  try {
    return await use(layout);
  } finally {
    await layout.remove();
  }
}
