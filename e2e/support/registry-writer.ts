/**
 * Pushes hand-made blobs and manifests to a real registry the way an attacker with push rights
 * would: raw Distribution API calls with Basic or token auth (the Docker token dance), so a test
 * controls every byte of the manifest.
 */
import { createHash } from "node:crypto";

export interface RegistryCredentials {
  user: string;
  password: string;
}

export interface PutResult {
  status: number;
  body: string;
}

export class RegistryWriter {
  constructor(
    private readonly baseUrl: string,
    private readonly credentials?: RegistryCredentials,
  ) {}

  /** Uploads a blob to `repo` (POST then PUT); returns its digest. */
  async pushBlob(repo: string, bytes: Buffer): Promise<string> {
    const digest = "sha256:" + createHash("sha256").update(bytes).digest("hex");
    const start = await this.send(repo, "POST", `/v2/${repo}/blobs/uploads/`);
    if (start.status !== 202) throw new Error(`upload start answered ${start.status}: ${await start.text()}`);
    const location = new URL(start.headers.get("location")!, this.baseUrl);
    location.searchParams.set("digest", digest);
    const put = await this.send(repo, "PUT", location.pathname + location.search, {
      body: bytes,
      headers: { "content-type": "application/octet-stream" },
    });
    if (put.status !== 201) throw new Error(`blob PUT answered ${put.status}: ${await put.text()}`);
    return digest;
  }

  /** PUTs a manifest exactly as given; returns the registry's answer (success or refusal). */
  async putManifest(
    repo: string,
    reference: string,
    manifest: object,
    mediaType: string,
  ): Promise<PutResult> {
    const res = await this.send(repo, "PUT", `/v2/${repo}/manifests/${reference}`, {
      body: Buffer.from(JSON.stringify(manifest)),
      headers: { "content-type": mediaType },
    });
    return { status: res.status, body: await res.text() };
  }

  private async send(
    repo: string,
    method: string,
    path: string,
    init: { body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const attempt = (authorization?: string) =>
      fetch(new URL(path, this.baseUrl), {
        method,
        body: init.body,
        headers: { ...init.headers, ...(authorization ? { authorization } : {}) },
        redirect: "manual",
      });
    const first = await attempt(this.basic());
    if (first.status !== 401) return first;
    const challenge = first.headers.get("www-authenticate") ?? "";
    await first.arrayBuffer();
    if (!challenge.startsWith("Bearer ")) return first;
    return attempt(`Bearer ${await this.token(challenge, repo)}`);
  }

  private async token(challenge: string, repo: string): Promise<string> {
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]),
    );
    const url = new URL(params.realm);
    url.searchParams.set("service", params.service);
    url.searchParams.set("scope", `repository:${repo}:pull,push`);
    const basic = this.basic();
    const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  }

  private basic(): string | undefined {
    const c = this.credentials;
    return c ? "Basic " + Buffer.from(`${c.user}:${c.password}`).toString("base64") : undefined;
  }
}
