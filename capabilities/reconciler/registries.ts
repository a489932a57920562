/**
 * spec -> the accelerated registries and the RegistriesResolved condition. Static `spec.registries`
 * are resolved here (source `static`); `spec.acrInstances` go to the AcrResolver when one is wired.
 * ACR domains follow the static entries; a host listed twice keeps its first (static) entry.
 */
import { parseUpstream } from "../../protocol/agent-config";
import type { AcrResolver } from "../acr/acr-resolver";
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../crd/p2p-acceleration-config";

export interface RegistriesOutcome {
  registries: ResolvedRegistry[];
  resolved: boolean;
  reason: string;
  message: string;
  /** Worth retrying soon (the cloud or the network failed). */
  retry: boolean;
}

export function staticRegistries(spec: P2PAccelerationConfigSpec): ResolvedRegistry[] {
  return (spec.registries ?? []).map(({ host, origin }) => {
    try {
      const upstream = parseUpstream({ host, origin });
      return { host: upstream.host, origin: upstream.origin, source: "static" as const };
    } catch {
      // left for the agent config check to report with the field name
      return { host, origin: origin ?? `https://${host}`, source: "static" as const };
    }
  });
}

export async function resolveRegistries(
  spec: P2PAccelerationConfigSpec,
  resolver: AcrResolver | undefined,
): Promise<RegistriesOutcome> {
  const fixed = staticRegistries(spec);
  const instances = spec.acrInstances ?? [];
  if (instances.length === 0)
    return {
      registries: fixed,
      resolved: true,
      reason: "Resolved",
      message: describe(fixed),
      retry: false,
    };
  if (!resolver)
    return {
      registries: fixed,
      resolved: false,
      reason: "AcrResolverMissing",
      message:
        `spec.acrInstances (${instances.join(", ")}) cannot be resolved: this build of peerpull has no ACR ` +
        "resolver. List the instances' registry domains under spec.registries instead.",
      retry: false,
    };
  let resolution;
  try {
    resolution = await resolver.resolve(spec);
  } catch (err) {
    resolution = {
      registries: [],
      error: { code: "ResolverFailed", message: (err as Error).message, retryable: true },
    };
  }
  const registries = merge(fixed, resolution.registries);
  const { error } = resolution;
  if (!error)
    return { registries, resolved: true, reason: "Resolved", message: describe(registries), retry: false };
  const request = error.requestId ? ` (RequestId ${error.requestId})` : "";
  const kept = resolution.registries.length
    ? ` Using the last resolved domains: ${resolution.registries.map(r => r.host).join(", ")}.`
    : "";
  return {
    registries,
    resolved: false,
    reason: "AcrResolutionFailed",
    message: `ACR ${error.code}: ${error.message}${request}.${kept} ${advice(error.code, error.retryable)}`,
    retry: error.retryable,
  };
}

function advice(code: string, retryable: boolean): string {
  if (retryable) return "Retrying with backoff.";
  if (/AccessKey|Credential|Signature/i.test(code))
    return "Check spec.credentials and the Secret's access-key-id / access-key-secret.";
  if (/Forbidden|NoPermission/i.test(code))
    return "Grant cr:ListInstanceEndpoint and cr:GetInstanceVpcEndpoint to the credentials.";
  return "Check spec.region and spec.acrInstances.";
}

function merge(first: ResolvedRegistry[], second: readonly ResolvedRegistry[]): ResolvedRegistry[] {
  const seen = new Set(first.map(r => r.host.toLowerCase()));
  return [...first, ...second.filter(r => !seen.has(r.host.toLowerCase()))];
}

function describe(registries: readonly ResolvedRegistry[]): string {
  if (registries.length === 0) return "no registry to accelerate";
  return `${registries.length} registr${registries.length === 1 ? "y" : "ies"}: ${registries.map(r => r.host).join(", ")}`;
}
