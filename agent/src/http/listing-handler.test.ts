/**
 * The listing handler over real HTTP against an origin that has what distribution 2.8 lacks: tags
 * pagination with `Link` (as distribution 3 sends it) and the referrers API (with and without the
 * artifactType filter). The distribution 2.8 side (no pagination, fallback tag) is in
 * e2e/agent-listing.test.ts.
 */
import { once } from "node:events";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseDistributionPath } from "../../../protocol/distribution-path";
import { OciError } from "../../../protocol/oci-error";
import { parseAuthorization } from "../credentials/client-credentials";
import { UpstreamClient } from "../upstream/upstream-client";
import { ListingHandler } from "./listing-handler";
import { writeError } from "./respond";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const SUBJECT = D("5");
const SBOM = "application/vnd.example.sbom+json";
const SIG = "application/vnd.example.signature";
const TAGS = ["v1", "v2", "v3", "latest", "alpha"];
const REFERRERS = [
  { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D("1"), size: 1, artifactType: SBOM },
  { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D("2"), size: 1, artifactType: SIG },
  { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D("3"), size: 1, artifactType: SBOM },
];
const BASIC = "Basic " + Buffer.from("bob:pw").toString("base64");

/** Per test: does the origin apply artifactType itself, and how many referrers per page. */
let originFilters = true;
let referrersPageSize = 10;
let originRequests: string[] = [];

function ociError(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
}

/** A spec-faithful origin: repositories team/app (public) and private/app (Basic bob:pw). */
function origin(req: IncomingMessage, res: ServerResponse): void {
  originRequests.push(req.url ?? "");
  const url = new URL(req.url ?? "/", "http://o");
  if (url.pathname === "/v2/team/huge/tags/list") {
    // 9 MiB of tags, more than the agent reads from an origin (8 MiB): it must not buffer it all.
    res.writeHead(200, { "content-type": "application/json" });
    const tags = Array.from({ length: 9 * 1024 }, (_, i) => `"${String(i).padStart(1020, "0")}"`);
    return void res.end(`{"name":"team/huge","tags":[${tags.join(",")}]}`);
  }
  if (url.pathname === "/v2/team/broken/tags/list") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end("<html>not a tag list</html>");
  }
  const m =
    /^\/v2\/(team\/app|private\/app|team\/empty)\/(tags\/list|referrers\/(sha256:[0-9a-f]{64}))$/.exec(
      url.pathname,
    );
  if (!m) return ociError(res, 404, "NAME_UNKNOWN");
  if (m[1].startsWith("private/") && req.headers.authorization !== BASIC) {
    res.writeHead(401, { "www-authenticate": 'Basic realm="origin"', "content-type": "application/json" });
    return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}');
  }
  if (m[2] === "tags/list") {
    const n = Number(url.searchParams.get("n") ?? 1000);
    const last = url.searchParams.get("last") ?? "";
    const after = [...TAGS].sort().filter(tag => tag > last);
    const page = after.slice(0, n);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (after.length > n)
      headers.link = `</v2/${m[1]}/tags/list?last=${page[page.length - 1]}&n=${n}>; rel="next"`;
    res.writeHead(200, headers);
    return void res.end(JSON.stringify({ name: m[1], tags: page }));
  }
  const type = url.searchParams.get("artifactType");
  let list = m[3] === SUBJECT ? REFERRERS : [];
  if (type && originFilters) list = list.filter(d => d.artifactType === type);
  const from = Number(url.searchParams.get("page") ?? 0);
  const headers: Record<string, string> = { "content-type": "application/vnd.oci.image.index.v1+json" };
  if (type && originFilters) headers["oci-filters-applied"] = "artifactType";
  if (list.length > from + referrersPageSize) {
    const next = new URLSearchParams({
      page: String(from + referrersPageSize),
      ...(type ? { artifactType: type } : {}),
    });
    headers.link = `<https://origin.example/v2/${m[1]}/referrers/${m[3]}?${next}>; rel="next"`;
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify({ schemaVersion: 2, manifests: list.slice(from, from + referrersPageSize) }));
}

let originServer: Server;
let agentServer: Server;
let agentUrl: string;
let client: UpstreamClient;

beforeAll(async () => {
  originServer = createServer(origin).listen(0, "127.0.0.1");
  await once(originServer, "listening");
  const upstream = {
    host: "origin.test",
    origin: `http://127.0.0.1:${(originServer.address() as AddressInfo).port}`,
  };
  client = new UpstreamClient({ timeoutMs: 5000, retries: 0 });
  const handler = new ListingHandler({ client });
  agentServer = createServer((req, res) => {
    void (async () => {
      try {
        const path = parseDistributionPath(req.url ?? "/");
        if (path.kind !== "tags" && path.kind !== "referrers") throw new Error("not a listing");
        const credentials = parseAuthorization(req.headers.authorization)!;
        const method = req.method as "GET" | "HEAD";
        await handler.handle(res, { ...path, upstream, credentials, method });
      } catch (err) {
        writeError(res, err instanceof OciError ? err : new OciError("UNKNOWN", String(err)), req.method);
      }
    })();
  }).listen(0, "127.0.0.1");
  await once(agentServer, "listening");
  agentUrl = `http://127.0.0.1:${(agentServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  agentServer.close();
  originServer.close();
});
beforeEach(() => {
  originFilters = true;
  referrersPageSize = 10;
  originRequests = [];
});

async function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(agentUrl + path, { headers, method });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Follows `Link: rel="next"` through the agent, as a client would. */
async function walk(first: string, headers: Record<string, string> = {}) {
  const pages: { path: string; body: { tags?: string[]; manifests?: { digest: string }[] } }[] = [];
  let path: string | undefined = first;
  while (path && pages.length < 10) {
    const res = await get(path, headers);
    expect(res.status).toBe(200);
    pages.push({ path, body: res.body });
    const link = res.headers.get("link");
    path = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  }
  return pages;
}

describe("tags list from an origin that paginates", () => {
  const namings = [
    {
      name: "rewrite naming",
      first: "/v2/origin.test/team/app/tags/list?n=2",
      next: "/v2/origin.test/team/app/tags/list?last=latest&n=2",
    },
    {
      name: "mirror naming",
      first: "/v2/team/app/tags/list?n=2&ns=origin.test",
      next: "/v2/team/app/tags/list?last=latest&n=2&ns=origin.test",
    },
  ];
  it.each(namings)("$name: every page, Link pointed back at the agent", async ({ first, next }) => {
    const pages = await walk(first);
    expect(pages.map(p => p.body.tags)).toEqual([["alpha", "latest"], ["v1", "v2"], ["v3"]]);
    expect(pages[1].path).toBe(next);
    expect(originRequests).toEqual([
      "/v2/team/app/tags/list?n=2",
      "/v2/team/app/tags/list?last=latest&n=2",
      "/v2/team/app/tags/list?last=v2&n=2", // the origin's own page tokens, passed back as they were
    ]);
  });

  it("a private repository: 401 with the agent's challenge, then the list with credentials", async () => {
    const anonymous = await get("/v2/origin.test/private/app/tags/list");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="peerpull"');
    expect(anonymous.body.errors[0].code).toBe("UNAUTHORIZED");
    const pages = await walk("/v2/origin.test/private/app/tags/list?n=3", { authorization: BASIC });
    expect(pages.flatMap(p => p.body.tags)).toEqual([...TAGS].sort());
  });

  it("an unknown repository is 404 NAME_UNKNOWN", async () => {
    const res = await get("/v2/origin.test/team/nope/tags/list");
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe("NAME_UNKNOWN");
  });

  it.each([
    { name: "larger than 8 MiB", repo: "team/huge", message: /larger than the agent accepts/ },
    { name: "not a tag list", repo: "team/broken", message: /not JSON/ },
  ])("an origin answer $name is 502, not passed on", async ({ repo, message }) => {
    const res = await get(`/v2/origin.test/${repo}/tags/list`);
    expect(res.status).toBe(502);
    expect(res.body.errors[0].message).toMatch(message);
  });

  it("HEAD is 405 UNSUPPORTED and asks nothing of the origin", async () => {
    expect((await get("/v2/origin.test/team/app/tags/list", {}, "HEAD")).status).toBe(405);
    expect(originRequests).toEqual([]);
  });
});

describe("referrers from an origin with the API", () => {
  const path = (query = "") => `/v2/origin.test/team/app/referrers/${SUBJECT}${query}`;
  const digests = (body: { manifests: { digest: string }[] }) => body.manifests.map(d => d.digest);

  it("passes the index on, with the content type of an image index", async () => {
    const res = await get(path());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.oci.image.index.v1+json");
    expect(digests(res.body)).toEqual([D("1"), D("2"), D("3")]);
    expect(res.headers.get("oci-filters-applied")).toBeNull();
  });

  it.each([
    { name: "filtered by the origin", originFilters: true },
    { name: "filtered by the agent when the origin did not", originFilters: false },
  ])("artifactType: $name, OCI-Filters-Applied set", async row => {
    originFilters = row.originFilters;
    const res = await get(path(`?artifactType=${encodeURIComponent(SBOM)}`));
    expect(digests(res.body)).toEqual([D("1"), D("3")]);
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    expect(originRequests[0]).toContain("artifactType=application%2Fvnd.example.sbom%2Bjson");
  });

  it("pages of referrers: the origin's absolute Link becomes the agent's, in mirror naming too", async () => {
    referrersPageSize = 2;
    const pages = await walk(`/v2/team/app/referrers/${SUBJECT}?ns=origin.test`);
    expect(pages.map(p => digests(p.body as never))).toEqual([[D("1"), D("2")], [D("3")]]);
    expect(pages[1].path).toBe(`/v2/team/app/referrers/${SUBJECT}?page=2&ns=origin.test`);
  });

  it("no referrers: an empty index", async () => {
    const res = await get(`/v2/origin.test/team/app/referrers/${D("9")}`);
    expect(res.body).toEqual({ schemaVersion: 2, manifests: [] });
  });

  it("a private repository without credentials: 401", async () => {
    expect((await get(`/v2/origin.test/private/app/referrers/${SUBJECT}`)).status).toBe(401);
    const res = await get(`/v2/origin.test/private/app/referrers/${SUBJECT}`, { authorization: BASIC });
    expect(digests(res.body)).toHaveLength(3);
  });
});
