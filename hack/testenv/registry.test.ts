import { buildImage, pushImage, type OciLayout } from "./oci-image";
import { startRegistry, parseAccessLog, countBlobGets, type Registry } from "./registry";
import { exists } from "./processes";

const auth = { user: "alice", password: "s3cret pass" };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("startRegistry (real docker-registry)", () => {
  let open: Registry;
  let closed: Registry;
  let image: OciLayout;

  beforeAll(async () => {
    [open, closed, image] = await Promise.all([
      startRegistry(),
      startRegistry({ auth }),
      buildImage({ layers: [4096, 300_000], seed: "registry-test" }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([open?.stop(), closed?.stop(), image?.remove()]);
  });

  test("listens on loopback on a port it picked and answers /v2/", async () => {
    expect(open.url).toBe(`http://${open.host}`);
    expect(open.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(open.port).toBeGreaterThan(0);
    const res = await fetch(`${open.url}/v2/`);
    expect(res.status).toBe(200);
  });

  test("with auth: no credentials -> 401 Basic challenge, wrong -> 401, right -> 200", async () => {
    const none = await fetch(`${closed.url}/v2/`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm="peerpull-test"/);
    const wrong = await fetch(`${closed.url}/v2/`, { headers: { authorization: basic(auth.user, "nope") } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${closed.url}/v2/`, {
      headers: { authorization: basic(auth.user, auth.password) },
    });
    expect(right.status).toBe(200);
  });

  test("counts blob GETs and bytes per digest from the access log, from a mark on", async () => {
    await pushImage(image, closed, "team/app", "v1", { creds: auth });
    const [small, big] = image.layers;
    const headers = { authorization: basic(auth.user, auth.password) };
    const before = await closed.mark();
    const full = await fetch(`${closed.url}/v2/team/app/blobs/${big.digest}`, { headers });
    expect(Buffer.from(await full.arrayBuffer()).length).toBe(big.size);
    const part = await fetch(`${closed.url}/v2/team/app/blobs/${big.digest}`, {
      headers: { ...headers, range: "bytes=100-1099" },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).length).toBe(1000);
    const head = await fetch(`${closed.url}/v2/team/app/blobs/${small.digest}`, { method: "HEAD", headers });
    expect(head.status).toBe(200);
    const denied = await fetch(`${closed.url}/v2/team/app/blobs/${small.digest}`);
    expect(denied.status).toBe(401);

    const counts = await closed.blobGets(before);
    expect(counts.get(big.digest)).toEqual({ gets: 2, bytes: big.size + 1000 });
    expect(counts.has(small.digest)).toBe(false); // HEAD and 401 are not served blobs
    const after = await closed.mark();
    expect((await closed.blobGets(after)).size).toBe(0);
  });

  test("stop() kills the process and removes the temp dir", async () => {
    const reg = await startRegistry();
    const dir = reg.logPath.replace(/\/registry\.log$/, "");
    expect(await exists(dir)).toBe(true);
    await reg.stop();
    expect(await exists(dir)).toBe(false);
    expect(() => process.kill(reg.pid, 0)).toThrow();
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
  });
});

describe("access log parsing", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const text = [
    `{"level":"info","msg":"listening on 127.0.0.1:1"}`,
    `127.0.0.1 - - [22/Nov/2026:13:09:33 +0000] "GET /v2/a/b/blobs/${digest} HTTP/1.1" 200 100000 "" "curl/7.88.1"`,
    `127.0.0.1 - - [22/Nov/2026:13:09:33 +0000] "GET /v2/a/b/blobs/${digest}?ns=x HTTP/1.1" 206 90 "" "curl/7.88.1"`,
    `127.0.0.1 - - [22/Nov/2026:13:09:33 +0000] "HEAD /v2/a/b/blobs/${digest} HTTP/1.1" 200 0 "" "curl/7.88.1"`,
    `127.0.0.1 - - [22/Nov/2026:13:09:33 +0000] "GET /v2/a/b/blobs/${digest} HTTP/1.1" 404 157 "" "curl/7.88.1"`,
    `127.0.0.1 - - [22/Nov/2026:13:09:33 +0000] "GET /v2/a/b/manifests/v1 HTTP/1.1" 200 588 "" "skopeo"`,
  ].join("\n");

  test("parses combined-format lines and skips JSON lines", () => {
    const entries = parseAccessLog(text);
    expect(entries).toHaveLength(5);
    expect(entries[4]).toEqual({
      method: "GET",
      path: "/v2/a/b/manifests/v1",
      status: 200,
      bytes: 588,
      userAgent: "skopeo",
    });
  });

  test("counts only successful blob GETs", () => {
    expect(countBlobGets(parseAccessLog(text))).toEqual(new Map([[digest, { gets: 2, bytes: 100090 }]]));
  });
});
