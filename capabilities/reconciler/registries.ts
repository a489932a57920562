/**
 * spec -> the accelerated registries and the RegistriesResolved condition. Static `spec.registries`
 * are resolved here (source `static`); `spec.acrInstances` go to the AcrResolver when one is wired.
 * ACR domains follow the static entries; a host listed twice keeps its first (static) entry.
 *
 * When the resolver fails, each instance keeps its last good registries: the resolver's own (it
 * remembers them while the process runs) or, when it has none (the watcher restarted while the cloud
 * is unreachable or the credentials are broken), those the config's status still lists. Dropping
 * them would take the hosts out of the agents' config, and pods already rewritten to
 * `127.0.0.1:<port>/<acr-host>/...` could no longer pull.
 */
import { parseUpstream } from "../../protocol/agent-config";
import type { AcrError, AcrResolution, AcrResolver } from "../acr/acr-resolver";
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

/**
 * Calls the resolver (the only I/O here) and decides with `registriesOutcome`. `previous` is the
 * config's `status.registries`, the last good resolution as far as the cluster knows.
 */
export async function resolveRegistries(
  spec: P2PAccelerationConfigSpec,
  resolver: AcrResolver | undefined,
  previous: readonly ResolvedRegistry[] = [],
): Promise<RegistriesOutcome> {
  if (!resolver || (spec.acrInstances ?? []).length === 0)
    return registriesOutcome(spec, undefined, previous);
  let resolution: AcrResolution;
  try {
    resolution = await resolver.resolve(spec);
  } catch (err) {
    resolution = {
      registries: [],
      error: { code: "ResolverFailed", message: (err as Error).message, retryable: true },
    };
  }
  return registriesOutcome(spec, resolution, previous);
}

/** Pure: spec + what the resolver said (undefined: no resolver) + the status's registries -> outcome. */
export function registriesOutcome(
  spec: P2PAccelerationConfigSpec,
  resolution: AcrResolution | undefined,
  previous: readonly ResolvedRegistry[],
): RegistriesOutcome {
  const fixed = staticRegistries(spec);
  const instances = spec.acrInstances ?? [];
  if (instances.length === 0)
    return { registries: fixed, resolved: true, reason: "Resolved", message: describe(fixed), retry: false };
  if (!resolution)
    return {
      registries: fixed,
      resolved: false,
      reason: "AcrResolverMissing",
      message:
        `spec.acrInstances (${instances.join(", ")}) cannot be resolved: this build of peerpull has no ACR ` +
        "resolver. List the instances' registry domains under spec.registries instead.",
      retry: false,
    };
  const { error } = resolution;
  if (!error) {
    const registries = merge(fixed, resolution.registries);
    return { registries, resolved: true, reason: "Resolved", message: describe(registries), retry: false };
  }
  const acr = [...resolution.registries, ...keptFromStatus(instances, resolution.registries, previous)];
  const kept = acr.length ? ` Using the last resolved domains: ${acr.map(r => r.host).join(", ")}.` : "";
  const next = error.retryable
    ? "Retrying with backoff."
    : "Tried again when the config or its credentials Secret changes, and at the periodic resync.";
  return {
    registries: merge(fixed, acr),
    resolved: false,
    reason: "AcrResolutionFailed",
    message: `ACR resolution failed: ${acrErrorText(error)}.${kept} ${next}`,
    retry: error.retryable,
  };
}

/** Pure: an ACR error in one line with its code and RequestId, each once (the resolver's messages
 * often carry them already). */
export function acrErrorText(error: AcrError): string {
  const code = error.message.includes(error.code) ? "" : `${error.code}: `;
  const request =
    error.requestId && !error.message.includes(error.requestId) ? ` (RequestId ${error.requestId})` : "";
  return `${code}${error.message}${request}`.replace(/\s+/g, " ").trim();
}

/**
 * Status registries of the configured instances the resolver gave nothing for. The status is the
 * module's own record (only it and cluster admins may patch the status subresource; whoever may edit
 * the spec can name any origin through spec.registries anyway).
 */
function keptFromStatus(
  instances: readonly string[],
  resolved: readonly ResolvedRegistry[],
  previous: readonly ResolvedRegistry[],
): ResolvedRegistry[] {
  const have = new Set(resolved.map(r => r.instanceId));
  return previous
    .filter(r => r.source === "acr" && r.instanceId && instances.includes(r.instanceId))
    .filter(r => !have.has(r.instanceId))
    .map(r => ({ ...r }));
}

function merge(first: ResolvedRegistry[], second: readonly ResolvedRegistry[]): ResolvedRegistry[] {
  const seen = new Set(first.map(r => r.host.toLowerCase()));
  const merged = [...first];
  for (const registry of second)
    if (!seen.has(registry.host.toLowerCase())) {
      seen.add(registry.host.toLowerCase());
      merged.push(registry);
    }
  return merged;
}

function describe(registries: readonly ResolvedRegistry[]): string {
  if (registries.length === 0) return "no registry to accelerate";
  return `${registries.length} registr${registries.length === 1 ? "y" : "ies"}: ${registries.map(r => r.host).join(", ")}`;
}
