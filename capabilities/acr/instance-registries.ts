/**
 * Pure: one ACR Enterprise instance's domains -> the registries peerpull accelerates for it.
 *
 * Every internet and VPC domain is a host (pods may name images by either); all of them fetch from
 * one origin: the instance's VPC domain, or its internet domain when `pullImageInternet` is set, as
 * the managed add-on does. The instance's own (SYSTEM) domain is preferred over custom (USER) ones.
 * Domains are names the cloud sent us: anything that is not a plain DNS name is refused, so a bad
 * answer can never turn into a path, a port or a scheme in an origin URL.
 */
import type { ResolvedRegistry } from "../crd/p2p-acceleration-config";
import { failure } from "./acr-errors";
import type { EndpointType, ListedDomain } from "./cr-responses";

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function instanceRegistries(
  instanceId: string,
  listed: readonly ListedDomain[],
  vpcDomains: readonly string[],
  pullImageInternet: boolean,
): ResolvedRegistry[] {
  const all: ListedDomain[] = [
    ...listed,
    ...vpcDomains.map(domain => ({ endpointType: "vpc" as const, domain, system: true })),
  ].map(d => ({ ...d, domain: d.domain.trim().toLowerCase() }));
  const invalid = all.find(d => !DNS_NAME.test(d.domain));
  if (invalid)
    throw failure(
      "MalformedResponse",
      `${instanceId}: the cloud named a domain that is not a DNS name: ${JSON.stringify(invalid.domain)}`,
      true,
    );

  const fetchFrom = pullImageInternet ? "internet" : "vpc";
  const origin = preferred(all, fetchFrom);
  if (!origin) throw noDomain(instanceId, fetchFrom);

  const hosts = [...ofType(all, "internet"), ...ofType(all, "vpc")];
  return [...new Set(hosts)].map(host => ({
    host,
    origin: `https://${origin}`,
    source: "acr" as const,
    instanceId,
  }));
}

function ofType(domains: readonly ListedDomain[], type: EndpointType): string[] {
  return domains.filter(d => d.endpointType === type).map(d => d.domain);
}

function preferred(domains: readonly ListedDomain[], type: EndpointType): string | undefined {
  const candidates = domains.filter(d => d.endpointType === type);
  return (candidates.find(d => d.system) ?? candidates[0])?.domain;
}

function noDomain(instanceId: string, type: EndpointType): Error {
  return type === "vpc"
    ? failure(
        "NoVpcEndpoint",
        `${instanceId} has no VPC domain: add the cluster's VPC to the instance's VPC access control, ` +
          "or set pullImageInternet: true",
        false,
      )
    : failure(
        "NoInternetEndpoint",
        `${instanceId} has no internet domain: enable its internet access, or set pullImageInternet: false`,
        false,
      );
}
