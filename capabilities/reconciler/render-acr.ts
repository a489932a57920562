/**
 * How `peerpull-render` resolves `spec.acrInstances`: with the credentials it is given, not the
 * ones `spec.credentials` names (the cluster's Secret and the nodes' RAM role are not reachable from
 * where one renders). In order: `--acr-secret-file FILE` (a Secret manifest as one would apply it,
 * `data` or `stringData`), else `ALIBABA_CLOUD_ACCESS_KEY_ID` + `ALIBABA_CLOUD_ACCESS_KEY_SECRET`.
 * Without either, ACR instances are left out and said so. `--acr-endpoint URL` points the Container
 * Registry API elsewhere (a proxy, or a local stand-in in tests).
 */
import { readFileSync } from "node:fs";
import type { V1Secret } from "@kubernetes/client-node";
import { parse } from "yaml";
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, accessKeyOf } from "../acr/acr-credentials";
import { AcrFailure } from "../acr/acr-errors";
import type { AcrResolver } from "../acr/acr-resolver";
import { createAcrResolver } from "../acr/create-acr-resolver";
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";

export const ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID";
export const ENV_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/** Bad input the user can fix (exit 2). */
export class RenderInputError extends Error {}

export interface RenderAcrOptions {
  secretFile?: string;
  endpoint?: string;
  env: Record<string, string | undefined>;
}

/** The resolver for these options, or undefined when no credentials were given. */
export function renderAcrResolver(options: RenderAcrOptions): AcrResolver | undefined {
  const endpoint = options.endpoint ? endpointOf(options.endpoint) : undefined;
  const secret = givenSecret(options);
  if (!secret) return undefined;
  return createAcrResolver({
    readSecret: async () => secret,
    ...(endpoint ? { endpointFor: () => endpoint.host, protocol: endpoint.protocol } : {}),
  });
}

/** The spec the resolver sees: the default Secret reference, which the given credentials answer. */
export function withGivenCredentials(spec: P2PAccelerationConfigSpec): P2PAccelerationConfigSpec {
  const copy = { ...spec };
  delete copy.credentials;
  return copy;
}

function givenSecret({ secretFile, env }: RenderAcrOptions): V1Secret | undefined {
  let secret: V1Secret | undefined;
  let where: string;
  if (secretFile) {
    secret = secretFromManifest(secretFile);
    where = secretFile;
  } else {
    const id = env[ENV_KEY_ID];
    const key = env[ENV_KEY_SECRET];
    if (!id && !key) return undefined;
    if (!id || !key) throw new RenderInputError(`set both ${ENV_KEY_ID} and ${ENV_KEY_SECRET}, or neither`);
    secret = { data: { [ACCESS_KEY_ID]: base64(id), [ACCESS_KEY_SECRET]: base64(key) } };
    where = `${ENV_KEY_ID}/${ENV_KEY_SECRET}`;
  }
  try {
    accessKeyOf(secret, { namespace: "-", name: "-" });
  } catch (err) {
    const message = err instanceof AcrFailure ? err.acr.message : (err as Error).message;
    throw new RenderInputError(`${where}: ${message.replace(/^Secret -\/- /, "")}`);
  }
  return secret;
}

function secretFromManifest(file: string): V1Secret {
  let doc: V1Secret & { stringData?: Record<string, string> };
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new RenderInputError(`${file}: ${(err as Error).message}`);
  }
  if (doc?.kind !== "Secret") throw new RenderInputError(`${file}: not a Secret manifest`);
  // as the API server does on apply: stringData wins over data
  const data = { ...(doc.data ?? {}) };
  for (const [key, value] of Object.entries(doc.stringData ?? {})) data[key] = base64(String(value));
  return { ...doc, data };
}

function endpointOf(text: string): { host: string; protocol: "http" | "https" } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RenderInputError(`--acr-endpoint: not a URL: ${text}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" || url.search)
    throw new RenderInputError(`--acr-endpoint: want http(s)://HOST[:PORT], got ${text}`);
  return { host: url.host, protocol: url.protocol === "http:" ? "http" : "https" };
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
