/**
 * Pure pod mutation (DESIGN 3.3): (pod, namespace labels, settings, pull secrets) -> the decision and
 * the exact changes. No I/O; the binding reads secrets before and writes derived secrets after.
 */
import { V1Container, V1Pod, V1Secret } from "@kubernetes/client-node";
import { isDigest } from "../../protocol/digest";
import {
  formatImageReference,
  ImageReference,
  MAX_NAME_LENGTH,
  tryParseImageReference,
} from "../../protocol/image-reference";
import { OPT_IN_VALUE } from "../crd/p2p-acceleration-config";
import { credentialFor, Credential, deriveSecret, derivedSecretName, readCredentials } from "./docker-config";
import { MirrorSettings } from "./settings";

export const MODE_ANNOTATION = "k8s.aliyun.com/image-accelerate-mode";
export const CONFIG_ANNOTATION = "k8s.aliyun.com/p2p-config";

export type SkipReason =
  | "no-config"
  | "mirror-mode"
  | "ignored-namespace"
  | "not-opted-in"
  | "already-mutated"
  | "no-accelerated-images";

export type ImageSkipReason =
  | "not-accelerated"
  | "invalid-reference"
  | "unsupported-digest"
  | "unrewritable-name"
  | "no-pull-secret";

export type ContainerField = "containers" | "initContainers" | "ephemeralContainers";
const FIELDS: readonly ContainerField[] = ["containers", "initContainers", "ephemeralContainers"];

export interface ImageChange {
  field: ContainerField;
  index: number;
  container: string;
  from: string;
  to: string;
  /** Original pull secret whose credentials cover the image; absent for anonymous registries. */
  secret?: string;
}

export interface MutationPlan {
  changes: ImageChange[];
  /** Derived secrets to ensure before the pod is admitted. */
  derivedSecrets: V1Secret[];
  /** Names appended to spec.imagePullSecrets (those not there yet). */
  addPullSecrets: string[];
  annotations: Record<string, string>;
  skippedImages: { container: string; image: string; reason: ImageSkipReason }[];
}

export type Decision =
  | { result: "skipped"; reason: SkipReason; skippedImages?: MutationPlan["skippedImages"] }
  | { result: "mutated"; reason: "rewritten"; plan: MutationPlan };

export interface GateInput {
  pod: V1Pod;
  namespace: string;
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  settings: MirrorSettings | undefined;
  ignoredNamespaces: ReadonlySet<string>;
}

/** The cheap checks, run before any secret is read. */
export function gate(input: GateInput): SkipReason | undefined {
  const { pod, settings } = input;
  if (input.ignoredNamespaces.has(input.namespace)) return "ignored-namespace";
  if (!settings) return "no-config";
  if (settings.mode === "mirror") return "mirror-mode";
  const label = settings.optInLabel;
  const optedIn =
    pod.metadata?.labels?.[label] === OPT_IN_VALUE || input.namespaceLabels?.[label] === OPT_IN_VALUE;
  if (!optedIn) return "not-opted-in";
  if (pod.metadata?.annotations?.[CONFIG_ANNOTATION] !== undefined) return "already-mutated";
  return undefined;
}

/** Names of the pull secrets the pod refers to, in order, without duplicates. */
export function referencedSecrets(pod: V1Pod): string[] {
  const names = (pod.spec?.imagePullSecrets ?? []).map(ref => ref?.name).filter(isNonEmptyString);
  return [...new Set(names)];
}

export interface PlanInput {
  pod: V1Pod;
  settings: MirrorSettings;
  /** The pod's pull secrets that exist, in imagePullSecrets order. */
  pullSecrets: readonly V1Secret[];
}

/** Call after `gate` passed. */
export function planMutation({ pod, settings, pullSecrets }: PlanInput): Decision {
  const secrets = pullSecrets.map(secret => ({ secret, credentials: readCredentials(secret) }));
  const changes: ImageChange[] = [];
  const skippedImages: MutationPlan["skippedImages"] = [];
  for (const field of FIELDS) {
    const containers: (V1Container | undefined)[] = pod.spec?.[field] ?? [];
    containers.forEach((container, index) => {
      const image = container?.image;
      if (!container || !isNonEmptyString(image)) return;
      const outcome = rewriteImage(image, settings, secrets);
      if ("reason" in outcome) {
        if (outcome.reason !== "not-accelerated")
          skippedImages.push({ container: container.name, image, reason: outcome.reason });
        return;
      }
      changes.push({
        field,
        index,
        container: container.name,
        from: image,
        to: outcome.to,
        secret: outcome.secret,
      });
    });
  }
  if (changes.length === 0) return { result: "skipped", reason: "no-accelerated-images", skippedImages };
  return {
    result: "mutated",
    reason: "rewritten",
    plan: buildPlan(pod, settings, pullSecrets, changes, skippedImages),
  };
}

/** The pod with the plan applied; the input is not modified. */
export function applyPlan(pod: V1Pod, plan: MutationPlan): V1Pod {
  const out: V1Pod = structuredClone(pod);
  const spec = out.spec!;
  for (const change of plan.changes) spec[change.field]![change.index].image = change.to;
  if (plan.addPullSecrets.length > 0)
    spec.imagePullSecrets = [
      ...(spec.imagePullSecrets ?? []),
      ...plan.addPullSecrets.map(name => ({ name })),
    ];
  out.metadata = out.metadata ?? {};
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}), ...plan.annotations };
  return out;
}

type Rewrite = { to: string; secret?: string } | { reason: ImageSkipReason };

function rewriteImage(
  image: string,
  settings: MirrorSettings,
  secrets: readonly { secret: V1Secret; credentials: Credential[] }[],
): Rewrite {
  const ref = tryParseImageReference(image);
  if (!ref) return { reason: "invalid-reference" };
  const registry = settings.registries.get(ref.registry);
  if (!registry) return { reason: "not-accelerated" };
  if (ref.digest !== undefined && !isDigest(ref.digest)) return { reason: "unsupported-digest" };
  const to = rewrittenReference(ref, settings.port);
  if (!to) return { reason: "unrewritable-name" };
  const covering = secrets.find(
    s => s.secret.metadata?.name && credentialFor(s.credentials, ref.registry, ref.repository),
  );
  const secret = covering?.secret.metadata?.name;
  if (secret && derivedSecretName(secret)) return { to, secret };
  return registry.anonymous ? { to } : { reason: "no-pull-secret" };
}

/** "127.0.0.1:<port>/<registry>/<repo>[:tag][@digest]", or undefined when that is no valid reference. */
export function rewrittenReference(ref: ImageReference, port: number): string | undefined {
  const rewritten: ImageReference = {
    ...ref,
    registry: `127.0.0.1:${port}`,
    repository: `${ref.registry}/${ref.repository}`,
  };
  const text = formatImageReference(rewritten);
  const check = tryParseImageReference(text);
  if (!check || check.registry !== rewritten.registry || check.repository !== rewritten.repository)
    return undefined;
  return rewritten.registry.length + 1 + rewritten.repository.length <= MAX_NAME_LENGTH ? text : undefined;
}

function buildPlan(
  pod: V1Pod,
  settings: MirrorSettings,
  pullSecrets: readonly V1Secret[],
  changes: ImageChange[],
  skippedImages: MutationPlan["skippedImages"],
): MutationPlan {
  const used = new Set(changes.map(c => c.secret).filter(isNonEmptyString));
  const accelerated = new Set(settings.registries.keys());
  const derivedSecrets = pullSecrets
    .filter(s => used.has(s.metadata?.name ?? ""))
    .map(s => deriveSecret(s, settings.port, accelerated))
    .filter((s): s is V1Secret => s !== undefined);
  const present = new Set(referencedSecrets(pod));
  const addPullSecrets = derivedSecrets.map(s => s.metadata!.name!).filter(name => !present.has(name));
  const originalImages: Record<string, string> = {};
  for (const change of changes) originalImages[change.container] = change.from;
  const config = { endpoint: `127.0.0.1:${settings.port}`, configName: settings.configName, originalImages };
  return {
    changes,
    derivedSecrets,
    addPullSecrets,
    annotations: { [MODE_ANNOTATION]: OPT_IN_VALUE, [CONFIG_ANNOTATION]: JSON.stringify(config) },
    skippedImages,
  };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
