/**
 * Pure: the bodies of `ListInstanceEndpoint` and `GetInstanceVpcEndpoint` (Container Registry
 * 2018-12-01, shapes from the API reference) -> the domains they name, checked once here so nothing
 * downstream handles raw JSON. A body with `IsSuccess: false` carries the cloud's `Code` (the API
 * answers some failures, e.g. `INSTANCE_NOT_EXIST`, with HTTP 200).
 *
 * ListInstanceEndpoint: { Code, IsSuccess, RequestId, Endpoints: [{ EndpointType: "internet"|"vpc",
 *   Enable, Status, AclEnable, AclEntries, LinkedVpcs, Domains: [{ Domain, Type: "SYSTEM"|"USER" }] }] }
 * GetInstanceVpcEndpoint: { Code, IsSuccess, RequestId, Enable, ModuleName, Domains: string[],
 *   LinkedVpcs: [{ VpcId, VswitchId, Ip, Status, DefaultAccess }] }
 */
import { failure, isRetryableCode } from "./acr-errors";

export type EndpointType = "internet" | "vpc";

export interface ListedDomain {
  endpointType: EndpointType;
  domain: string;
  /** The instance's own domain (SYSTEM) rather than a custom one (USER). */
  system: boolean;
}

type Json = Record<string, unknown>;

export function decodeListInstanceEndpoint(body: unknown): ListedDomain[] {
  const object = successfulBody(body, "ListInstanceEndpoint");
  const endpoints = object.Endpoints ?? [];
  if (!Array.isArray(endpoints)) throw malformed("ListInstanceEndpoint", "Endpoints is not a list", object);
  const domains: ListedDomain[] = [];
  for (const endpoint of endpoints) {
    if (!isObject(endpoint)) throw malformed("ListInstanceEndpoint", "an endpoint is not an object", object);
    const endpointType = String(endpoint.EndpointType ?? "").toLowerCase();
    if (endpointType !== "internet" && endpointType !== "vpc") continue; // other networks are not ours
    const list = endpoint.Domains ?? [];
    if (!Array.isArray(list)) throw malformed("ListInstanceEndpoint", "Domains is not a list", object);
    for (const entry of list) {
      if (!isObject(entry) || typeof entry.Domain !== "string")
        throw malformed("ListInstanceEndpoint", "a domain has no Domain string", object);
      domains.push({ endpointType, domain: entry.Domain, system: entry.Type !== "USER" });
    }
  }
  return domains;
}

export function decodeGetInstanceVpcEndpoint(body: unknown): string[] {
  const object = successfulBody(body, "GetInstanceVpcEndpoint");
  const domains = object.Domains ?? [];
  if (!Array.isArray(domains) || !domains.every(d => typeof d === "string"))
    throw malformed("GetInstanceVpcEndpoint", "Domains is not a list of strings", object);
  return domains;
}

function successfulBody(body: unknown, action: string): Json {
  if (!isObject(body)) throw malformed(action, "the body is not a JSON object", {});
  if (body.IsSuccess === false) {
    const code = typeof body.Code === "string" && body.Code ? body.Code : "UnknownError";
    const message =
      typeof body.Message === "string" && body.Message ? body.Message : `${action} answered ${code}`;
    throw failure(code, message, isRetryableCode(code), requestIdOf(body));
  }
  return body;
}

function malformed(action: string, what: string, body: Json): Error {
  return failure("MalformedResponse", `${action}: ${what}`, true, requestIdOf(body));
}

function requestIdOf(body: Json): string | undefined {
  return typeof body.RequestId === "string" ? body.RequestId : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
