/** OriginAuth against a real token endpoint on port 0: tokens reused until they expire, and bounded. */
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { Agent } from "undici";
import { parseAuthorization } from "../credentials/client-credentials";
import { OriginAuth } from "./origin-auth";

const alice = parseAuthorization("Basic " + Buffer.from("alice:pw").toString("base64"))!;
const ORIGIN = "http://origin.test";

let server: Server;
let realm: string;
let tokenRequests: string[];
const dispatcher = new Agent();

beforeAll(async () => {
  server = createServer((req, res) => {
    tokenRequests.push(new URL(req.url!, "http://x").searchParams.get("scope") ?? "");
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ token: `tok-${tokenRequests.length}`, expires_in: 60 }));
  });
  await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
  realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
beforeEach(() => (tokenRequests = []));
afterAll(async () => {
  await dispatcher.close();
  await new Promise(resolve => server.close(resolve));
});

function auth(clock: { now: number }, maxTokens?: number): OriginAuth {
  const originAuth = new OriginAuth(dispatcher, 5_000, () => clock.now, maxTokens);
  originAuth.rememberChallenge(ORIGIN, { scheme: "bearer", realm, service: "reg" });
  return originAuth;
}

describe("OriginAuth", () => {
  it("reuses a token until shortly before it expires, then fetches a new one", async () => {
    const clock = { now: 0 };
    const originAuth = auth(clock);
    expect(await originAuth.headerFor(ORIGIN, alice, "app")).toBe("Bearer tok-1");
    clock.now = 54_000; // 60 s token, renewed 5 s early
    expect(await originAuth.headerFor(ORIGIN, alice, "app")).toBe("Bearer tok-1");
    clock.now = 55_000;
    expect(await originAuth.headerFor(ORIGIN, alice, "app")).toBe("Bearer tok-2");
    expect(tokenRequests).toEqual(["repository:app:pull", "repository:app:pull"]);
  });

  it("keeps at most maxTokens tokens: the least recently used one is fetched again", async () => {
    const originAuth = auth({ now: 0 }, 2);
    for (const repo of ["a", "b", "a", "c", "b"]) await originAuth.headerFor(ORIGIN, alice, repo);
    // a, b fetched; a reused (now most recent); c evicts b; b fetched again
    expect(tokenRequests).toEqual([
      "repository:a:pull",
      "repository:b:pull",
      "repository:c:pull",
      "repository:b:pull",
    ]);
  });

  it("forgets a token the origin rejected", async () => {
    const originAuth = auth({ now: 0 });
    await originAuth.headerFor(ORIGIN, alice, "app");
    originAuth.invalidate(ORIGIN, alice, "app");
    expect(await originAuth.headerFor(ORIGIN, alice, "app")).toBe("Bearer tok-2");
  });
});
