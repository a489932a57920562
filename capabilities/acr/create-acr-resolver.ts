/**
 * Wires the real parts into the `AcrResolver` the reconciler uses:
 *
 *   const acr = createAcrResolver({ readSecret: (ns, name) => cluster.readSecret(ns, name) });
 *   const { registries, error } = await acr.resolve(config.spec);
 *
 * `readSecret` returns the Secret as the Kubernetes API does (base64 `data`), undefined when it does
 * not exist, and throws for other API errors. The other options exist for tests (a local API server,
 * a local metadata server, a clock).
 */
import { CredentialSource, RamRoleProviderFactory, ReadSecret } from "./acr-credentials";
import type { AcrResolver } from "./acr-resolver";
import { CachingAcrResolver, CachingAcrResolverOptions } from "./caching-acr-resolver";
import { openApiCrApi } from "./cr-api";

export interface AcrResolverDeps extends CachingAcrResolverOptions {
  readSecret: ReadSecret;
  ramRoleProvider?: RamRoleProviderFactory;
  /** The Container Registry API endpoint for a region; default `cr.<region>.aliyuncs.com`. */
  endpointFor?: (region: string) => string;
  protocol?: "https" | "http";
}

export function createAcrResolver(deps: AcrResolverDeps): AcrResolver {
  const credentials = new CredentialSource(deps.readSecret, deps.ramRoleProvider);
  return new CachingAcrResolver(
    async (region, ref) =>
      openApiCrApi({
        region,
        credential: await credentials.credentialFor(ref),
        endpoint: deps.endpointFor?.(region),
        protocol: deps.protocol,
      }),
    { now: deps.now, refreshAfterMs: deps.refreshAfterMs },
  );
}
