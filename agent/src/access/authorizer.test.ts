import { createHash } from "node:crypto";
import { Upstream } from "../../../protocol/agent-config";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";
import { AuthDecision, Authorizer } from "./authorizer";
import { ANONYMOUS, ClientCredentials, parseAuthorization } from "../credentials/client-credentials";
import { GrantBook } from "./grants";
import { UnknownDigests } from "./unknown-digests";

const upstream: Upstream = { host: "r.test", origin: "http://127.0.0.1:1" };
const d = (c: string) => "sha256:" + c.repeat(64);
const [CONFIG, LAYER, SUBJECT, OTHER] = [d("c"), d("1"), d("5"), d("9")];
const alice = parseAuthorization("Basic " + Buffer.from("alice:pw").toString("base64"))!;
const mallory = parseAuthorization("Basic " + Buffer.from("mallory:pw").toString("base64"))!;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

const imageManifest = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: CONFIG, size: 10 },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: LAYER, size: 20 }],
  ...extra,
});

/** The origin: answers manifests from `manifests`, HEADs from `blobs` (per credential), or fails. */
function setup(opts: {
  manifest?: object;
  contentType?: string;
  blobs?: Record<string, number>;
  down?: boolean;
}) {
  const calls: string[] = [];
  const decisions: AuthDecision[] = [];
  let now = 0;
  let down = opts.down ?? false;
  const body = Buffer.from(JSON.stringify(opts.manifest ?? imageManifest()));
  const client = {
    async manifest() {
      calls.push("manifest");
      if (down) throw new UpstreamUnreachableError("down");
      return { contentType: opts.contentType ?? OCI_MANIFEST, size: body.length, body };
    },
    async headBlob(_u: Upstream, repo: string, digest: string, credentials: ClientCredentials) {
      calls.push(`head ${repo} ${digest.slice(7, 8)} ${credentials.kind}`);
      if (down) throw new UpstreamUnreachableError("down");
      const size = opts.blobs?.[digest];
      if (size === undefined) throw new UpstreamStatusError(404, "unknown");
      return size;
    },
  };
  const authorizer = new Authorizer({
    grants: new GrantBook(1000),
    unknown: new UnknownDigests(500),
    client,
    offlineGraceMs: 10_000,
    now: () => now,
    onDecision: decision => decisions.push(decision),
  });
  return {
    authorizer,
    calls,
    decisions,
    body,
    advance: (ms: number) => (now += ms),
    setDown: (value: boolean) => (down = value),
    pullManifest: (credentials = alice, repo = "team/app") =>
      authorizer.manifest({
        upstream,
        repo,
        reference: "1",
        isDigest: false,
        credentials,
        method: "GET",
      }),
    blob: (digest: string, credentials = alice, repo = "team/app") =>
      authorizer.blob(upstream, repo, digest, credentials),
  };
}

describe("Authorizer: what a manifest pre-authorizes", () => {
  it("grants an image manifest's config and layers to exactly that credential and repository", async () => {
    const t = setup({});
    await t.pullManifest();
    await expect(t.blob(LAYER)).resolves.toEqual({ size: 20 });
    await expect(t.blob(CONFIG)).resolves.toEqual({ size: 10 });
    expect(t.calls).toEqual(["manifest"]);
    expect(t.decisions).toEqual(["origin", "grant", "grant"]);
    // another credential or repository is asked at the origin
    await expect(t.blob(LAYER, mallory)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    await expect(t.blob(LAYER, alice, "team/other")).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(t.calls.slice(1)).toEqual(["head team/app 1 basic", "head team/other 1 basic"]);
  });

  const neverGrants = [
    {
      name: "subject",
      manifest: imageManifest({ subject: { mediaType: OCI_MANIFEST, digest: SUBJECT, size: 1 } }),
      digest: SUBJECT,
    },
    {
      name: "a layer with urls",
      manifest: imageManifest({
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar",
            digest: SUBJECT,
            size: 1,
            urls: ["http://x"],
          },
        ],
      }),
      digest: SUBJECT,
    },
    {
      name: "a foreign layer",
      manifest: imageManifest({
        layers: [
          {
            mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            digest: SUBJECT,
            size: 1,
          },
        ],
      }),
      digest: SUBJECT,
    },
    {
      name: "a non-distributable layer",
      manifest: imageManifest({
        layers: [
          { mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar", digest: SUBJECT, size: 1 },
        ],
      }),
      digest: SUBJECT,
    },
    {
      name: "an index's children",
      manifest: {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{ mediaType: OCI_MANIFEST, digest: SUBJECT, size: 1 }],
      },
      digest: SUBJECT,
    },
    {
      name: "an artifact's blobs",
      manifest: {
        mediaType: "application/vnd.oci.artifact.manifest.v1+json",
        blobs: [{ digest: SUBJECT, size: 1 }],
      },
      digest: SUBJECT,
    },
    { name: "annotations", manifest: imageManifest({ annotations: { digest: SUBJECT } }), digest: SUBJECT },
    {
      name: "a body claiming a type the origin did not serve",
      manifest: imageManifest({ mediaType: "application/vnd.docker.distribution.manifest.v2+json" }),
      digest: LAYER,
    },
    { name: "schema version 1", manifest: imageManifest({ schemaVersion: 1 }), digest: LAYER },
    { name: "the manifest's own digest", manifest: imageManifest(), digest: "self" },
  ];
  it.each(neverGrants)("never grants $name: the origin is asked", async ({ manifest, digest }) => {
    const t = setup({ manifest });
    await t.pullManifest();
    const wanted = digest === "self" ? "sha256:" + createHash("sha256").update(t.body).digest("hex") : digest;
    await expect(t.blob(wanted)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(t.calls).toHaveLength(2);
    expect(t.decisions).toEqual(["origin", "denied"]);
  });

  it("takes the Content-Type when the body names no media type", async () => {
    const { mediaType: _drop, ...bare } = imageManifest();
    const t = setup({ manifest: bare });
    await t.pullManifest();
    await expect(t.blob(LAYER)).resolves.toEqual({ size: 20 });
  });
});

describe("Authorizer: blobs outside the grants", () => {
  it("asks the origin with the request's credentials and remembers its yes until the TTL", async () => {
    const t = setup({ blobs: { [OTHER]: 7 } });
    await expect(t.blob(OTHER)).resolves.toEqual({ size: 7 });
    await expect(t.blob(OTHER)).resolves.toEqual({ size: 7 });
    expect(t.calls).toEqual(["head team/app 9 basic"]);
    t.advance(1000);
    await t.blob(OTHER);
    expect(t.calls).toHaveLength(2);
    expect(t.decisions).toEqual(["origin", "grant", "origin"]);
  });

  it.each([
    { name: "401", status: 401, code: "UNAUTHORIZED" },
    { name: "403", status: 403, code: "DENIED" },
    { name: "404", status: 404, code: "BLOB_UNKNOWN" },
  ])("maps the origin's $name", async ({ status, code }) => {
    const t = setup({});
    const authorizer = new Authorizer({
      grants: new GrantBook(1000),
      client: {
        manifest: async () => {
          throw new UpstreamStatusError(status, "no");
        },
        headBlob: async () => {
          throw new UpstreamStatusError(status, "no");
        },
      },
      offlineGraceMs: 0,
    });
    await expect(authorizer.blob(upstream, "team/app", OTHER, ANONYMOUS)).rejects.toMatchObject({ code });
    expect(t.calls).toEqual([]);
  });
});

describe("Authorizer: digests the origin does not have", () => {
  it("asks the origin about an unknown digest once per short TTL, per credential", async () => {
    const t = setup({});
    for (let i = 0; i < 5; i++) await expect(t.blob(OTHER)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(t.calls).toEqual(["head team/app 9 basic"]);
    await expect(t.blob(OTHER, mallory)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(t.calls).toHaveLength(2);
    t.advance(500);
    await expect(t.blob(OTHER)).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
    expect(t.calls).toHaveLength(3);
  });

  it("remembers an unknown manifest digest, never an unknown tag", async () => {
    const t = setup({});
    const client = {
      manifest: jest.fn().mockRejectedValue(new UpstreamStatusError(404, "unknown")),
      headBlob: jest.fn(),
    };
    const authorizer = new Authorizer({
      grants: new GrantBook(1000),
      unknown: new UnknownDigests(),
      client,
      offlineGraceMs: 0,
    });
    const ask = (reference: string, isDigest: boolean) =>
      authorizer.manifest({
        upstream,
        repo: "team/app",
        reference,
        isDigest,
        credentials: alice,
        method: "GET",
      });
    for (let i = 0; i < 3; i++)
      await expect(ask(OTHER, true)).rejects.toMatchObject({ code: "MANIFEST_UNKNOWN" });
    for (let i = 0; i < 3; i++)
      await expect(ask("latest", false)).rejects.toMatchObject({ code: "MANIFEST_UNKNOWN" });
    expect(client.manifest).toHaveBeenCalledTimes(4);
    expect(t.calls).toEqual([]);
  });
});

describe("Authorizer: origin unreachable", () => {
  it("allows, within the offline grace, only triples the origin confirmed", async () => {
    const t = setup({ blobs: { [OTHER]: 7 } });
    await t.pullManifest();
    await t.blob(OTHER);
    t.setDown(true);
    t.advance(5000); // past authTTL, inside the grace
    await expect(t.blob(LAYER)).resolves.toEqual({ size: 20 });
    await expect(t.blob(OTHER)).resolves.toEqual({ size: 7 });
    await expect(t.blob(SUBJECT)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(t.blob(LAYER, mallory)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    t.advance(5000); // past the grace
    await expect(t.blob(LAYER)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(t.decisions.slice(-5)).toEqual([
      "offline",
      "offline",
      "unreachable",
      "unreachable",
      "unreachable",
    ]);
  });

  it("denies everything without a grace", async () => {
    const t = setup({ down: true });
    const authorizer = new Authorizer({
      grants: new GrantBook(1000),
      client: {
        manifest: jest.fn(),
        headBlob: jest.fn().mockRejectedValue(new UpstreamUnreachableError("down")),
      },
      offlineGraceMs: 0,
    });
    await expect(authorizer.blob(upstream, "team/app", LAYER, alice)).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
    await expect(t.pullManifest()).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("Authorizer: manifests by digest", () => {
  it("refuses an origin manifest that does not match the requested digest", async () => {
    const t = setup({});
    await expect(
      t.authorizer.manifest({
        upstream,
        repo: "team/app",
        reference: OTHER,
        isDigest: true,
        credentials: alice,
        method: "GET",
      }),
    ).rejects.toMatchObject({ code: "MANIFEST_INVALID", status: 502 });
  });
});
