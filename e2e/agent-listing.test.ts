/**
 * Tags list and referrers through the built agent, against real docker-registry 2.8 (open and
 * htpasswd). 2.8 ignores `n`/`last` and has no referrers API, so this is the agent cutting pages
 * itself and the spec's fallback tag scheme; the paginating origin with the referrers API is in
 * agent/src/http/listing-handler.test.ts. Every answer comes from the origin, asked each time.
 */
import { AgentProcess, startAgent } from "../hack/testenv/agent";
import { buildImage, inspectRaw, MEDIA, OciLayout, pushImage } from "../hack/testenv/oci-image";
import { ArtifactDescriptor, pushReferrer, tagManifest } from "../hack/testenv/oci-push";
import { run, Teardown } from "../hack/testenv/processes";
import { Registry, startRegistry } from "../hack/testenv/registry";
import { rawRequest } from "./support/raw-http";

jest.setTimeout(120_000);

const CREDS = { user: "bob", password: "pull-secret" };
const BASIC = "Basic " + Buffer.from(`${CREDS.user}:${CREDS.password}`).toString("base64");
const WRONG = "Basic " + Buffer.from(`${CREDS.user}:nope`).toString("base64");
const SBOM = "application/vnd.example.sbom.v1+json";
const SIG = "application/vnd.example.signature.v1";
const TAGS = ["1", "2", "3", "beta", "latest", "v1.0", "v1.1"];
const teardown = new Teardown();
let registry: Registry;
let privateRegistry: Registry;
let agent: AgentProcess;
let layout: OciLayout;
let subject: { mediaType: string; digest: string; size: number };
let privateSubject: { mediaType: string; digest: string; size: number };
const referrers: Record<string, ArtifactDescriptor[]> = {};

beforeAll(async () => {
  registry = await startRegistry();
  teardown.add(() => registry.stop());
  privateRegistry = await startRegistry({ auth: CREDS });
  teardown.add(() => privateRegistry.stop());
  agent = await startAgent({
    upstreams: [`registry.test=${registry.url}`, `private.test=${privateRegistry.url}`],
  });
  teardown.add(() => agent.stop());
  layout = await buildImage({ layers: [10_000], seed: "listing" });
  teardown.add(() => layout.remove());

  const pushed = await pushImage(layout, registry, "team/app", "1");
  await tagManifest(registry, "team/app", "1", TAGS.slice(1));
  subject = { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size };
  referrers.public = [
    await pushReferrer(registry, "team/app", subject, SBOM, "spdx"),
    await pushReferrer(registry, "team/app", subject, SIG, "signature"),
    await pushReferrer(registry, "team/app", subject, SBOM, "cyclonedx"),
  ];

  const privatePushed = await pushImage(layout, privateRegistry, "team/secret", "1", { creds: CREDS });
  await tagManifest(privateRegistry, "team/secret", "1", TAGS.slice(1), CREDS);
  privateSubject = {
    mediaType: privatePushed.mediaType,
    digest: privatePushed.digest,
    size: privatePushed.size,
  };
  referrers.private = [
    await pushReferrer(privateRegistry, "team/secret", privateSubject, SBOM, "spdx", CREDS),
  ];
});
afterAll(() => teardown.run());

async function get(path: string, authorization?: string, method = "GET") {
  const res = await rawRequest(agent.url, path, { method, headers: authorization ? { authorization } : {} });
  const text = res.body.toString();
  return { ...res, json: text ? JSON.parse(text) : undefined };
}

/** Follows the agent's `Link: rel="next"` as a client does; returns each page's tags. */
async function walkTags(
  first: string,
  authorization?: string,
): Promise<{ paths: string[]; tags: string[][] }> {
  const paths: string[] = [];
  const tags: string[][] = [];
  let path: string | undefined = first;
  while (path && paths.length < 20) {
    const res = await get(path, authorization);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    paths.push(path);
    tags.push(res.json.tags);
    const link = res.headers.link as string | undefined;
    path = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  }
  return { paths, tags };
}

const naming = {
  rewrite: (registryHost: string, repo: string, endpoint: string, query = "") =>
    `/v2/${registryHost}/${repo}/${endpoint}${query ? `?${query}` : ""}`,
  mirror: (registryHost: string, repo: string, endpoint: string, query = "") =>
    `/v2/${repo}/${endpoint}?${query ? `${query}&` : ""}ns=${registryHost}`,
};
const NAMINGS = [
  { name: "rewrite naming", path: naming.rewrite },
  { name: "mirror naming", path: naming.mirror },
];
const sorted = [...TAGS].sort();
const referrerTags = (list: ArtifactDescriptor[]) => list.map(d => d.digest.replace(":", "-"));

describe("tags list", () => {
  it.each(NAMINGS)(
    "$name: pages of n, Link back to the agent, every page asked of the origin",
    async ({ path }) => {
      const mark = await registry.mark();
      const { paths, tags } = await walkTags(path("registry.test", "team/app", "tags/list", "n=3"));
      // The fallback tag sha256-<hex> is a tag like any other.
      const all = [...sorted, `${subject.digest.replace(":", "-")}`].sort();
      expect(tags).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)]);
      expect(paths[1]).toBe(path("registry.test", "team/app", "tags/list", `n=3&last=${all[2]}`));
      const asked = (await registry.accessLog(mark)).filter(e => e.path.startsWith("/v2/team/app/tags/list"));
      expect(asked).toHaveLength(3);
      expect(asked.every(e => e.userAgent === "peerpull-agent" && e.status === 200)).toBe(true);
    },
  );

  it("without n the origin's answer is passed on byte for byte", async () => {
    const direct = await rawRequest(registry.url, "/v2/team/app/tags/list");
    const res = await get("/v2/registry.test/team/app/tags/list");
    expect(res.body.equals(direct.body)).toBe(true);
    expect(res.headers.link).toBeUndefined();
  });

  it.each(NAMINGS)(
    "$name, private registry: 401 challenge, wrong credentials 401, right ones page",
    async ({ path }) => {
      const first = path("private.test", "team/secret", "tags/list", "n=4");
      const anonymous = await get(first);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toBe('Basic realm="peerpull"');
      expect(anonymous.json.errors[0].code).toBe("UNAUTHORIZED");
      expect((await get(first, WRONG)).status).toBe(401);
      const { tags } = await walkTags(first, BASIC);
      expect(tags.flat()).toEqual([...sorted, ...referrerTags([])].concat(privateFallbackTag()).sort());
      expect(tags[0]).toHaveLength(4);
    },
  );

  it("skopeo list-tags through the agent (a real client), public and private", async () => {
    const list = async (ref: string, creds?: string[]) => {
      const args = [
        "list-tags",
        "--retry-times",
        "0",
        "--tls-verify=false",
        ...(creds ?? []),
        `docker://${ref}`,
      ];
      return (JSON.parse((await run("skopeo", args, { timeoutMs: 60_000 })).stdout) as { Tags: string[] })
        .Tags;
    };
    expect((await list(`${agent.host}/registry.test/team/app`)).sort()).toEqual(
      [...sorted, subject.digest.replace(":", "-")].sort(),
    );
    const creds = ["--creds", `${CREDS.user}:${CREDS.password}`];
    expect((await list(`${agent.host}/private.test/team/secret`, creds)).sort()).toEqual(
      [...sorted, privateFallbackTag()].sort(),
    );
  });
});

function privateFallbackTag(): string {
  return privateSubject.digest.replace(":", "-");
}

describe("referrers (fallback tag scheme: distribution 2.8 has no referrers API)", () => {
  const digests = (body: { manifests: { digest: string }[] }) => body.manifests.map(d => d.digest).sort();

  it.each(NAMINGS)("$name: every referrer, as an image index", async ({ path }) => {
    const res = await get(path("registry.test", "team/app", `referrers/${subject.digest}`));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(MEDIA.ociIndex);
    expect(res.headers["oci-filters-applied"]).toBeUndefined();
    expect(res.json.schemaVersion).toBe(2);
    expect(digests(res.json)).toEqual(referrers.public.map(d => d.digest).sort());
    expect(res.json.manifests.find((d: ArtifactDescriptor) => d.artifactType === SIG)).toBeDefined();
  });

  it.each(NAMINGS)(
    "$name: artifactType filter applied by the agent, OCI-Filters-Applied",
    async ({ path }) => {
      const res = await get(
        path(
          "registry.test",
          "team/app",
          `referrers/${subject.digest}`,
          `artifactType=${encodeURIComponent(SBOM)}`,
        ),
      );
      expect(res.headers["oci-filters-applied"]).toBe("artifactType");
      expect(digests(res.json)).toEqual(
        referrers.public
          .filter(d => d.artifactType === SBOM)
          .map(d => d.digest)
          .sort(),
      );
    },
  );

  it("a subject nobody refers to: an empty index, and the origin was asked", async () => {
    const mark = await registry.mark();
    const res = await get(`/v2/registry.test/team/app/referrers/${layout.config.digest}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] });
    const asked = (await registry.accessLog(mark)).map(e => `${e.status} ${e.path}`);
    expect(asked).toEqual([
      `404 /v2/team/app/referrers/${layout.config.digest}`,
      `404 /v2/team/app/manifests/${layout.config.digest.replace(":", "-")}`,
      // 2.8 says MANIFEST_UNKNOWN in unknown repositories too: the repository's existence is asked.
      "200 /v2/team/app/tags/list?n=1",
    ]);
  });

  it.each(NAMINGS)(
    "$name, private registry: 401 without or with wrong credentials, the index with them",
    async ({ path }) => {
      const p = path("private.test", "team/secret", `referrers/${privateSubject.digest}`);
      expect((await get(p)).status).toBe(401);
      expect((await get(p, WRONG)).status).toBe(401);
      const res = await get(p, BASIC);
      expect(res.status).toBe(200);
      expect(digests(res.json)).toEqual(referrers.private.map(d => d.digest));
    },
  );

  it("is never answered from what an earlier caller was shown", async () => {
    await get(`/v2/private.test/team/secret/referrers/${privateSubject.digest}`, BASIC);
    const res = await get(`/v2/private.test/team/secret/referrers/${privateSubject.digest}`);
    expect(res.status).toBe(401);
    expect(res.body.toString()).not.toContain(referrers.private[0].digest);
  });
});

describe("errors as the distribution spec defines them", () => {
  const D = `sha256:${"ab".repeat(32)}`;
  const rows = [
    {
      name: "tags of an unknown repository",
      path: "/v2/registry.test/team/nope/tags/list",
      status: 404,
      code: "NAME_UNKNOWN",
    },
    {
      name: "referrers in an unknown repository",
      path: `/v2/registry.test/team/nope/referrers/${D}`,
      status: 404,
      code: "NAME_UNKNOWN",
    },
    {
      name: "tags, mirror naming, unknown repository",
      path: "/v2/team/nope/tags/list?ns=registry.test",
      status: 404,
      code: "NAME_UNKNOWN",
    },
    {
      name: "tags of an unconfigured registry",
      path: "/v2/other.test/team/app/tags/list",
      status: 404,
      code: "NAME_UNKNOWN",
    },
    {
      name: "referrers of a malformed digest",
      path: "/v2/registry.test/team/app/referrers/sha256:abc",
      status: 400,
      code: "DIGEST_INVALID",
    },
    {
      name: "referrers of a tag",
      path: "/v2/registry.test/team/app/referrers/latest",
      status: 400,
      code: "DIGEST_INVALID",
    },
    {
      name: "referrers, unsupported algorithm",
      path: `/v2/registry.test/team/app/referrers/sha512:${"a".repeat(128)}`,
      status: 405,
      code: "UNSUPPORTED",
    },
    {
      name: "negative n",
      path: "/v2/registry.test/team/app/tags/list?n=-1",
      status: 400,
      code: "PAGINATION_NUMBER_INVALID",
    },
    {
      name: "tags with a trailing path",
      path: "/v2/registry.test/team/app/tags/list/x",
      status: 404,
      code: "NAME_INVALID",
    },
  ];
  it.each(rows)("$name -> $status $code", async ({ path, status, code }) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    expect(res.json.errors[0].code).toBe(code);
  });

  it("HEAD and DELETE are 405 UNSUPPORTED", async () => {
    expect((await get("/v2/registry.test/team/app/tags/list", undefined, "HEAD")).status).toBe(405);
    const del = await get(`/v2/registry.test/team/app/referrers/${subject.digest}`, undefined, "DELETE");
    expect(del.status).toBe(405);
    expect(del.json.errors[0].code).toBe("UNSUPPORTED");
  });

  it("the agent is still healthy and the image still pulls by digest", async () => {
    expect((await fetch(`${agent.peerUrl}/healthz`)).status).toBe(200);
    expect((await inspectRaw(`${agent.host}/registry.test/team/app@${subject.digest}`)).digest).toBe(
      subject.digest,
    );
  });
});
