/**
 * A small Docker token issuer for distribution's `auth.token` mode: per-repository access control,
 * as real registries (Harbor, ACR, Docker Hub) have it. `GET /token?service=&scope=repository:R:A`
 * with Basic credentials answers a JWT (RS256, `x5c` header with a self-signed certificate the
 * registry trusts through `rootcertbundle`) granting the actions the user's rules allow for R.
 * Unknown users and bad passwords get 401; anonymous requests get the rules of user "".
 */
import { createSign, randomBytes, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { removeDir, run, tempDir } from "./processes";

export interface TokenUser {
  password: string;
  /** Repository name patterns ("team/*", "private/app") and the actions granted on them. */
  repositories: Record<string, ("pull" | "push")[]>;
}

export interface TokenIssuer {
  /** The `auth.token` lines of a docker-registry config. */
  readonly registryConfigLines: string[];
  readonly realm: string;
  /** Tokens issued so far, by user ("" = anonymous). */
  readonly issued: { user: string; scope: string }[];
  stop(): Promise<void>;
}

export const TOKEN_SERVICE = "peerpull-test-registry";
const ISSUER = "peerpull-test-issuer";

export async function startTokenIssuer(users: Record<string, TokenUser>): Promise<TokenIssuer> {
  const dir = await tempDir("token-issuer");
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  await run(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      `/CN=${ISSUER}`,
    ],
    { timeoutMs: 30_000 },
  );
  const key = await readFile(keyPath, "utf8");
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString("base64");
  const issued: TokenIssuer["issued"] = [];
  const server: Server = createServer((req, res) => answer(req, res, users, key, certDer, issued));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    issued,
    registryConfigLines: [
      "auth:",
      "  token:",
      `    realm: ${realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${certPath}`,
    ],
    async stop() {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
      await removeDir(dir);
    },
  };
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  users: Record<string, TokenUser>,
  key: string,
  certDer: string,
  issued: TokenIssuer["issued"],
): void {
  const url = new URL(req.url ?? "/", "http://issuer");
  if (url.pathname !== "/token") return send(res, 404, { error: "not found" });
  const user = authenticate(req.headers.authorization, users);
  if (user === undefined) return send(res, 401, { error: "bad credentials" });
  const access = url.searchParams.getAll("scope").flatMap(scope => grantedAccess(scope, users[user]));
  const scope = url.searchParams.getAll("scope").join(" ");
  issued.push({ user, scope });
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    sub: user,
    aud: url.searchParams.get("service") ?? TOKEN_SERVICE,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(12).toString("hex"),
    access,
  };
  const token = signJwt(claims, key, certDer);
  send(res, 200, {
    token,
    access_token: token,
    expires_in: 300,
    issued_at: new Date(now * 1000).toISOString(),
  });
}

/** The user name for these credentials ("" when anonymous), or undefined when they are wrong. */
function authenticate(header: string | undefined, users: Record<string, TokenUser>): string | undefined {
  if (!header) return users[""] ? "" : undefined;
  if (!header.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return name !== "" && users[name]?.password === password ? name : undefined;
}

function grantedAccess(scope: string, user: TokenUser | undefined) {
  const [type, name, actions] = scope.split(":");
  if (type !== "repository" || !name || !actions || !user) return [];
  const allowed = new Set<string>();
  for (const [pattern, granted] of Object.entries(user.repositories))
    if (matches(pattern, name)) for (const action of granted) allowed.add(action);
  const wanted = actions.split(",").filter(action => allowed.has(action));
  return wanted.length > 0 ? [{ type: "repository", name, actions: wanted }] : [];
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith("/*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function signJwt(claims: object, key: string, certDer: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode({ typ: "JWT", alg: "RS256", x5c: [certDer] })}.${encode(claims)}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(key).toString("base64url");
  return `${signingInput}.${signature}`;
}

function send(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
