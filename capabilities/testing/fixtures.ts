/** Builders for pods, pull secrets and configs used by the capability tests and the bench. */
import { V1Container, V1Pod, V1Secret } from "@kubernetes/client-node";
import { P2PAccelerationConfig, RegistrySpec } from "../crd/p2p-acceleration-config";

export function dockerConfigSecret(
  namespace: string,
  name: string,
  auths: Record<string, Record<string, unknown>>,
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace },
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify({ auths })).toString("base64") },
  };
}

export function legacyDockerCfgSecret(
  namespace: string,
  name: string,
  auths: Record<string, Record<string, unknown>>,
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockercfg",
    metadata: { name, namespace },
    data: { ".dockercfg": Buffer.from(JSON.stringify(auths)).toString("base64") },
  };
}

export function basicAuth(username: string, password: string): Record<string, unknown> {
  return { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") };
}

export function accelerationConfig(
  registries: RegistrySpec[],
  extra: Partial<NonNullable<P2PAccelerationConfig["spec"]>> = {},
  name = "default",
): P2PAccelerationConfig {
  return {
    apiVersion: "peerpull.io/v1alpha1",
    kind: "P2PAccelerationConfig",
    metadata: { name },
    spec: { registries, ...extra },
  } as P2PAccelerationConfig;
}

export interface PodShape {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers: string[];
  initContainers?: string[];
  ephemeralContainers?: string[];
  pullSecrets?: string[];
}

export function pod(shape: PodShape): V1Pod {
  const named = (prefix: string, images: string[] = []): V1Container[] =>
    images.map((image, i) => ({ name: `${prefix}${i}`, image, imagePullPolicy: "IfNotPresent" }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: shape.name ?? "web-0",
      ...(shape.labels ? { labels: shape.labels } : {}),
      ...(shape.annotations ? { annotations: shape.annotations } : {}),
    },
    spec: {
      containers: named("c", shape.containers),
      ...(shape.initContainers ? { initContainers: named("init", shape.initContainers) } : {}),
      ...(shape.ephemeralContainers
        ? { ephemeralContainers: named("debug", shape.ephemeralContainers) }
        : {}),
      ...(shape.pullSecrets ? { imagePullSecrets: shape.pullSecrets.map(name => ({ name })) } : {}),
    },
  };
}

export function decodeDockerConfig(secret: V1Secret): unknown {
  return JSON.parse(Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"));
}

/** A tenant's pull secret and the derived copy the pod mutation made of it (deletion removes the copy). */
export function pullSecretWithDerived(namespace: string, name: string): [V1Secret, V1Secret] {
  const derived = `acr-credential-${name}-p2p`;
  return [
    dockerConfigSecret(namespace, name, {}),
    {
      ...dockerConfigSecret(namespace, derived, {}),
      metadata: { namespace, name: derived, labels: { "peerpull.io/derived-from": name } },
    },
  ];
}
