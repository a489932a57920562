/**
 * Pure: the agent DaemonSet. One agent per node on the host network: the registry port on 127.0.0.1
 * (containerd on the node pulls from it), the peer port on the node IP (downward API), the cache on a
 * hostPath or an emptyDir, every taint tolerated, node-critical priority, and a checksum of its config
 * and token in the pod template so a change rolls the agents. Mirror mode mounts the node's containerd
 * hosts directory; leaving it adds the cleanup init container (mirror-cleanup.ts).
 */
import type { V1Container, V1DaemonSet, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { DEFAULT_P2P_PORT } from "../../crd/p2p-acceleration-config";
import {
  AGENT_CONFIG_KEY,
  AGENT_NAME,
  CACHE_DIR,
  CHECKSUM_ANNOTATION,
  CONFIG_DIR,
  IMAGE_USER,
  NODE_SELECTOR_LABEL,
  PEER_PORT,
  PEER_TOKEN_KEY,
  PEER_TOKEN_SECRET,
  TOKEN_DIR,
  DEFAULT_IMAGE,
  labelsOf,
  selectorOf,
} from "../names";
import { swarmEnabled } from "./agent-config";
import {
  containerdCertsMount,
  containerdCertsVolume,
  containerdConfigMount,
  containerdConfigVolume,
  mirrorCleanupContainer,
} from "./mirror-cleanup";
import { DesiredInput, ManifestObject } from "./types";

const DEFAULT_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "2Gi" } };

export function agentDaemonSet(input: DesiredInput, checksum: string): ManifestObject {
  const p2p = input.spec.p2p ?? {};
  const port = p2p.port ?? DEFAULT_P2P_PORT;
  const mirror = input.spec.mode === "mirror";
  // hostPath directories belong to root on the node; without them the image's own user suffices
  const asRoot = mirror || p2p.cacheHostPath !== undefined;
  const volumes: V1Volume[] = [
    {
      name: "config",
      configMap: { name: AGENT_NAME, items: [{ key: AGENT_CONFIG_KEY, path: AGENT_CONFIG_KEY }] },
    },
    p2p.cacheHostPath
      ? { name: "cache", hostPath: { path: p2p.cacheHostPath, type: "DirectoryOrCreate" } }
      : { name: "cache", emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
    { name: "cache", mountPath: CACHE_DIR },
  ];
  if (swarmEnabled(input)) {
    volumes.push(tokenVolume());
    mounts.push({ name: "peer-token", mountPath: TOKEN_DIR, readOnly: true });
  }
  if (mirror) {
    volumes.push(containerdConfigVolume());
    mounts.push(containerdConfigMount(), containerdCertsMount());
  }
  const cleanup = !mirror && input.mirrorCleanup === true;
  if (mirror || cleanup) volumes.push(containerdCertsVolume());
  const image = input.spec.agent?.image ?? DEFAULT_IMAGE;
  const daemonSet = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: AGENT_NAME, namespace: input.namespace, labels: labelsOf(AGENT_NAME) },
    spec: {
      selector: { matchLabels: selectorOf(AGENT_NAME) },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
      template: {
        metadata: {
          labels: labelsOf(AGENT_NAME),
          annotations: {
            [CHECKSUM_ANNOTATION]: checksum,
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(PEER_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          serviceAccountName: AGENT_NAME,
          automountServiceAccountToken: false,
          priorityClassName: "system-node-critical",
          tolerations: [{ operator: "Exists" }],
          ...(p2p.nodeSelectorEnable ? { nodeSelector: { [NODE_SELECTOR_LABEL]: "true" } } : {}),
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsUser: asRoot ? 0 : IMAGE_USER,
            runAsGroup: asRoot ? 0 : IMAGE_USER,
            runAsNonRoot: !asRoot,
            fsGroup: IMAGE_USER,
            seccompProfile: { type: "RuntimeDefault" },
          },
          ...(cleanup ? { initContainers: [mirrorCleanupContainer(image)] } : {}),
          containers: [agentContainer(input, image, port, mounts)],
          volumes,
        },
      },
    },
  } satisfies V1DaemonSet;
  return daemonSet as ManifestObject;
}

function agentContainer(
  input: DesiredInput,
  image: string,
  port: number,
  volumeMounts: V1VolumeMount[],
): V1Container {
  return {
    name: "agent",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["peerpull-agent"],
    // the peer port binds the node IP only; $(NODE_IP) is expanded by the kubelet
    args: ["--config", `${CONFIG_DIR}/${AGENT_CONFIG_KEY}`, "--peer-listen", `$(NODE_IP):${PEER_PORT}`],
    env: [{ name: "NODE_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } }],
    ports: [
      { name: "registry", containerPort: port, hostPort: port, hostIP: "127.0.0.1", protocol: "TCP" },
      { name: "peer", containerPort: PEER_PORT, hostPort: PEER_PORT, protocol: "TCP" },
    ],
    readinessProbe: { httpGet: { path: "/readyz", port: "peer" }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: {
      httpGet: { path: "/healthz", port: "peer" },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 6,
    },
    resources: input.spec.agent?.resources ?? DEFAULT_RESOURCES,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    volumeMounts,
  };
}

export function tokenVolume(): V1Volume {
  return {
    name: "peer-token",
    secret: {
      secretName: PEER_TOKEN_SECRET,
      items: [{ key: PEER_TOKEN_KEY, path: PEER_TOKEN_KEY }],
      defaultMode: 0o440,
    },
  };
}
