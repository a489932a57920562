/**
 * The `AcrResolver` the reconciler calls on every reconcile. Decisions:
 * - a successful resolution is reused for `refreshAfterMs` (an hour) while the inputs (region,
 *   instance ids, pullImageInternet, credentials ref) stay the same, and redone at once when they
 *   change; failures are never cached, so the reconciler's next retry is a real attempt;
 * - instances resolve one after another (two calls each, in parallel); an error that would fail
 *   every instance alike (credentials, network, throttling) stops the round, one that concerns an
 *   instance (unknown id, missing permission on it) does not;
 * - an instance that failed keeps its last good registries, and the error says which instance and
 *   why, with the cloud's code, message and RequestId;
 * - concurrent calls with the same inputs share one resolution.
 */
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../crd/p2p-acceleration-config";
import { acrErrorOf, concernsOneInstance, hintFor } from "./acr-errors";
import { AcrInputs, acrInputsOf, CredentialsRef, describeCredentials, inputsKey } from "./acr-inputs";
import type { AcrError, AcrResolution, AcrResolver } from "./acr-resolver";
import type { CrApi } from "./cr-api";
import { instanceRegistries } from "./instance-registries";

export const DEFAULT_REFRESH_AFTER_MS = 60 * 60 * 1000;

/** The Container Registry API for a region, authenticated with the referenced credentials. */
export type CrApiFor = (region: string, credentials: CredentialsRef) => Promise<CrApi>;

export interface CachingAcrResolverOptions {
  now?: () => number;
  refreshAfterMs?: number;
}

interface Failure {
  instanceId?: string;
  error: AcrError;
}

export class CachingAcrResolver implements AcrResolver {
  readonly #now: () => number;
  readonly #refreshAfterMs: number;
  #fresh?: { key: string; at: number; registries: ResolvedRegistry[] };
  #inflight?: { key: string; promise: Promise<AcrResolution> };
  readonly #lastGood = new Map<string, ResolvedRegistry[]>();

  constructor(
    private readonly apiFor: CrApiFor,
    options: CachingAcrResolverOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#refreshAfterMs = options.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS;
  }

  async resolve(spec: P2PAccelerationConfigSpec): Promise<AcrResolution> {
    const check = acrInputsOf(spec);
    if (check.kind === "none") return { registries: [] };
    if (check.kind === "invalid")
      return { registries: this.#lastGoodOf([...new Set(spec.acrInstances ?? [])]), error: check.error };

    const key = inputsKey(check.inputs);
    const fresh = this.#fresh;
    if (fresh && fresh.key === key && this.#now() - fresh.at < this.#refreshAfterMs)
      return { registries: copy(fresh.registries) };
    if (this.#inflight?.key === key) return this.#inflight.promise;

    const promise = this.#resolveNow(check.inputs, key).finally(() => {
      if (this.#inflight?.promise === promise) this.#inflight = undefined;
    });
    this.#inflight = { key, promise };
    return promise;
  }

  async #resolveNow(inputs: AcrInputs, key: string): Promise<AcrResolution> {
    const startedAt = this.#now();
    let api: CrApi;
    try {
      api = await this.apiFor(inputs.region, inputs.credentials);
    } catch (err) {
      return this.#failed(inputs, [{ error: acrErrorOf(err) }]);
    }
    const failures: Failure[] = [];
    for (const instanceId of inputs.instanceIds) {
      if (failures.some(f => !concernsOneInstance(f.error))) break;
      try {
        const [listed, vpc] = await Promise.all([
          api.listInstanceEndpoint(instanceId),
          api.getInstanceVpcEndpoint(instanceId),
        ]);
        this.#lastGood.set(instanceId, instanceRegistries(instanceId, listed, vpc, inputs.pullImageInternet));
      } catch (err) {
        failures.push({ instanceId, error: acrErrorOf(err) });
      }
    }
    if (failures.length > 0) return this.#failed(inputs, failures);

    for (const id of [...this.#lastGood.keys()])
      if (!inputs.instanceIds.includes(id)) this.#lastGood.delete(id);
    const registries = this.#lastGoodOf(inputs.instanceIds);
    this.#fresh = { key, at: startedAt, registries };
    return { registries: copy(registries) };
  }

  #failed(inputs: AcrInputs, failures: Failure[]): AcrResolution {
    return {
      registries: this.#lastGoodOf(inputs.instanceIds),
      error: combine(failures, describeCredentials(inputs.credentials)),
    };
  }

  /** Last good registries of these instances, in their order, each host once. */
  #lastGoodOf(instanceIds: readonly string[]): ResolvedRegistry[] {
    const seen = new Set<string>();
    const registries: ResolvedRegistry[] = [];
    for (const id of instanceIds)
      for (const registry of this.#lastGood.get(id) ?? [])
        if (!seen.has(registry.host)) {
          seen.add(registry.host);
          registries.push({ ...registry });
        }
    return registries;
  }
}

function combine(failures: Failure[], credentials: string): AcrError {
  const [first] = failures;
  const message = failures
    .map(({ instanceId, error }) => {
      const hint = hintFor(error.code, credentials);
      const requestId = error.requestId ? ` (RequestId ${error.requestId})` : "";
      return `${instanceId ? `${instanceId}: ` : ""}${error.code}: ${error.message}${requestId}${hint ? `; ${hint}` : ""}`;
    })
    .join(" | ");
  return {
    code: first.error.code,
    message,
    ...(first.error.requestId ? { requestId: first.error.requestId } : {}),
    retryable: failures.some(f => f.error.retryable),
  };
}

function copy(registries: readonly ResolvedRegistry[]): ResolvedRegistry[] {
  return registries.map(r => ({ ...r }));
}
