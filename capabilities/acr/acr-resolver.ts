/**
 * The contract between the reconciler and Alibaba Cloud Container Registry (ACR) resolution
 * (DESIGN 3.2): `spec.acrInstances` + `spec.region` become accelerated registries. The reconciler
 * calls `resolve` on every reconcile; the resolver answers from its cache while a resolution is
 * fresh (refreshing about hourly and whenever the inputs change), and on failure hands back the last
 * good registries together with the error, so agents keep working while the cloud is unreachable.
 * Retry with backoff is the reconciler's job; it shows `error` in the `RegistriesResolved` condition.
 *
 * The implementation is built by `createAcrResolver({ readSecret })` (create-acr-resolver.ts); the
 * codes `error.code` takes and what each means are tabled in README.md, "ACR Enterprise instances".
 */
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../crd/p2p-acceleration-config";

export interface AcrError {
  /** The cloud's error code (e.g. `InvalidAccessKeyId.NotFound`, `Forbidden.RAM`) or a local one
   * (`NetworkError`, `CredentialsMissing`). */
  code: string;
  message: string;
  /** The cloud's RequestId, when the cloud answered. */
  requestId?: string;
  /** Worth retrying soon (throttling, network, 5xx); false for bad keys or unknown instances. */
  retryable: boolean;
}

export interface AcrResolution {
  /** Registries of every instance in `spec.acrInstances` (`source: "acr"`, `instanceId` set): fresh,
   * or the last good ones when this resolution failed (empty if there never was a good one). */
  registries: ResolvedRegistry[];
  /** Set when this resolution failed, in whole or for one instance. */
  error?: AcrError;
}

export interface AcrResolver {
  resolve(spec: P2PAccelerationConfigSpec): Promise<AcrResolution>;
}
