/**
 * The two Container Registry 2018-12-01 calls peerpull makes, through `@alicloud/openapi-client`'s
 * generic `callApi` (`@alicloud/cr20181201` is not published on the registry we can use). They are
 * sent as the generated SDK sends them: RPC style, POST, parameters in the query, JSON answer, and
 * signed with the RPC signature (HMAC-SHA1) — `signatureAlgorithm: "v2"` is what routes `callApi` to
 * that signer, as generated clients set it. No retries here: the reconciler retries with backoff.
 */
import type Credential from "@alicloud/credentials";
import OpenApi, { Config, OpenApiRequest, Params } from "@alicloud/openapi-client";
import { decodeGetInstanceVpcEndpoint, decodeListInstanceEndpoint, ListedDomain } from "./cr-responses";

export const CR_API_VERSION = "2018-12-01";
/** Only image repositories: Helm chart domains are not accelerated. */
const MODULE_NAME = "Registry";

export interface CrApi {
  listInstanceEndpoint(instanceId: string): Promise<ListedDomain[]>;
  getInstanceVpcEndpoint(instanceId: string): Promise<string[]>;
}

export interface CrApiOptions {
  region: string;
  credential: Credential;
  /** Default `cr.<region>.aliyuncs.com`; tests point it at a local server. */
  endpoint?: string;
  /** Default https. */
  protocol?: "https" | "http";
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
}

type CallRuntime = Parameters<OpenApi["callApi"]>[2];

export function crEndpoint(region: string): string {
  return `cr.${region}.aliyuncs.com`;
}

export function openApiCrApi(options: CrApiOptions): CrApi {
  const client = new OpenApi(
    new Config({
      credential: options.credential,
      endpoint: options.endpoint ?? crEndpoint(options.region),
      regionId: options.region,
      protocol: options.protocol ?? "https",
      signatureAlgorithm: "v2",
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      readTimeout: options.readTimeoutMs ?? 10_000,
      userAgent: "peerpull",
    }),
  );
  const call = async (action: string, instanceId: string): Promise<unknown> => {
    const params = new Params({
      action,
      version: CR_API_VERSION,
      protocol: options.protocol ?? "https",
      pathname: "/",
      method: "POST",
      authType: "AK",
      style: "RPC",
      reqBodyType: "formData",
      bodyType: "json",
    });
    const request = new OpenApiRequest({ query: { InstanceId: instanceId, ModuleName: MODULE_NAME } });
    const runtime = { autoretry: false } as CallRuntime;
    const response = await client.callApi(params, request, runtime);
    return response.body;
  };
  return {
    listInstanceEndpoint: async id => decodeListInstanceEndpoint(await call("ListInstanceEndpoint", id)),
    getInstanceVpcEndpoint: async id =>
      decodeGetInstanceVpcEndpoint(await call("GetInstanceVpcEndpoint", id)),
  };
}
