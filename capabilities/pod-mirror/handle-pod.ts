/**
 * One Pod CREATE, in order: gate -> read pull secrets -> plan -> ensure derived secrets -> patched pod.
 * Never throws: any failure leaves the pod unmutated (its pulls go to the registry), logged and counted.
 */
import { V1Pod, V1Secret } from "@kubernetes/client-node";
import { MirrorCluster } from "./cluster";
import { MutationMetrics, MutationResult } from "./metrics";
import { applyPlan, gate, planMutation, referencedSecrets } from "./mutate-pod";
import { selectSettings } from "./settings";

export interface MutationLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PodMirrorDeps {
  cluster: MirrorCluster;
  metrics: MutationMetrics;
  log: MutationLog;
  /** kube-system and the module's own namespace. */
  ignoredNamespaces: ReadonlySet<string>;
}

export interface PodRequest {
  pod: V1Pod;
  namespace: string;
  /** Dry run: compute the patch, write nothing. */
  dryRun: boolean;
}

export interface Outcome {
  result: MutationResult;
  reason: string;
  /** The patched pod when result is "mutated". */
  pod?: V1Pod;
}

class StepError extends Error {
  constructor(
    readonly reason: string,
    readonly detail: unknown,
  ) {
    super(reason);
  }
}

export async function handlePod(request: PodRequest, deps: PodMirrorDeps): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = await decide(request, deps);
  } catch (err) {
    const reason = err instanceof StepError ? err.reason : "internal";
    const cause = err instanceof StepError ? err.detail : err;
    deps.log.warn(
      { namespace: request.namespace, pod: podName(request.pod), reason, err: String(cause) },
      "pod left unmutated after an error",
    );
    outcome = { result: "error", reason };
  }
  deps.metrics.record(outcome.result, outcome.reason);
  return outcome;
}

async function decide({ pod, namespace, dryRun }: PodRequest, deps: PodMirrorDeps): Promise<Outcome> {
  const { cluster } = deps;
  const [configs, namespaceLabels] = await step("cluster-read-failed", () =>
    Promise.all([cluster.accelerationConfigs(), cluster.namespaceLabels(namespace)]),
  );
  const settings = selectSettings(configs);
  const skip = gate({ pod, namespace, namespaceLabels, settings, ignoredNamespaces: deps.ignoredNamespaces });
  if (skip || !settings) return { result: "skipped", reason: skip ?? "no-config" };

  const pullSecrets = await step("secret-read-failed", () => readSecrets(cluster, namespace, pod));
  const decision = planMutation({ pod, settings, pullSecrets });
  if (decision.result === "skipped") {
    if (decision.skippedImages?.length)
      deps.log.info({ namespace, pod: podName(pod), images: decision.skippedImages }, "images not rewritten");
    return { result: "skipped", reason: decision.reason };
  }
  const { plan } = decision;
  if (!dryRun)
    await step("secret-apply-failed", () =>
      Promise.all(plan.derivedSecrets.map(s => cluster.applySecret(s))),
    );
  deps.log.info(
    { namespace, pod: podName(pod), changes: plan.changes.length, skipped: plan.skippedImages },
    "pod images rewritten to the node-local endpoint",
  );
  return { result: "mutated", reason: decision.reason, pod: applyPlan(pod, plan) };
}

async function readSecrets(cluster: MirrorCluster, namespace: string, pod: V1Pod): Promise<V1Secret[]> {
  const found = await Promise.all(referencedSecrets(pod).map(name => cluster.readSecret(namespace, name)));
  return found.filter((s): s is V1Secret => s !== undefined);
}

async function step<T>(reason: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new StepError(reason, err);
  }
}

function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? pod.metadata?.generateName ?? "";
}
