/**
 * Pure: the tracker as a StatefulSet behind a headless Service, so replica i has the stable name
 * `peerpull-tracker-<i>.peerpull-tracker.<namespace>.svc` the agents shard digests over.
 */
import type { V1Service, V1StatefulSet } from "@kubernetes/client-node";
import {
  CHECKSUM_ANNOTATION,
  DEFAULT_IMAGE,
  IMAGE_USER,
  PEER_TOKEN_KEY,
  TOKEN_DIR,
  TRACKER_NAME,
  TRACKER_PORT,
  labelsOf,
  selectorOf,
} from "../names";
import { tokenVolume } from "./agent-daemonset";
import { DesiredInput, ManifestObject } from "./types";

export function trackerService(input: DesiredInput): ManifestObject {
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: TRACKER_NAME, namespace: input.namespace, labels: labelsOf(TRACKER_NAME) },
    spec: {
      clusterIP: "None",
      selector: selectorOf(TRACKER_NAME),
      ports: [{ name: "api", port: TRACKER_PORT, targetPort: "api", protocol: "TCP" }],
    },
  } satisfies V1Service;
  return service as ManifestObject;
}

export function trackerStatefulSet(input: DesiredInput, checksum: string): ManifestObject {
  const statefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: TRACKER_NAME, namespace: input.namespace, labels: labelsOf(TRACKER_NAME) },
    spec: {
      serviceName: TRACKER_NAME,
      replicas: input.spec.tracker?.replicas ?? 1,
      // soft state only: replicas start and stop independently
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorOf(TRACKER_NAME) },
      template: {
        metadata: {
          labels: labelsOf(TRACKER_NAME),
          annotations: {
            [CHECKSUM_ANNOTATION]: checksum,
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(TRACKER_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsUser: IMAGE_USER,
            runAsGroup: IMAGE_USER,
            runAsNonRoot: true,
            fsGroup: IMAGE_USER,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "tracker",
              image: input.spec.agent?.image ?? DEFAULT_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: ["peerpull-tracker"],
              args: [
                "--listen",
                `0.0.0.0:${TRACKER_PORT}`,
                "--peer-token-file",
                `${TOKEN_DIR}/${PEER_TOKEN_KEY}`,
              ],
              ports: [{ name: "api", containerPort: TRACKER_PORT, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: "/readyz", port: "api" }, periodSeconds: 5 },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "api" },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                failureThreshold: 6,
              },
              resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "peer-token", mountPath: TOKEN_DIR, readOnly: true }],
            },
          ],
          volumes: [tokenVolume()],
        },
      },
    },
  } satisfies V1StatefulSet;
  return statefulSet as ManifestObject;
}
