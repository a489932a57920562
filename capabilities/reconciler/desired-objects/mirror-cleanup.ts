/**
 * Pure: leaving mirror mode. Agents in mirror mode write `hosts.toml` files into the node's
 * containerd hosts directory and leave them on SIGTERM (a restart must not make pulls flap). When the
 * config goes back to `rewrite`, the new agent DaemonSet gets an init container that removes them
 * (`peerpull-agent --containerd-hosts-cleanup=true`, only files carrying the agent's marker line).
 * The rolling update stops the node's mirror agent before its replacement starts, so the cleanup on
 * each node runs after the last write there: no race with a housekeeping tick.
 *
 * Whether agents ran in mirror mode is read from the live DaemonSet (it mounts the hosts directory);
 * a DaemonSet that already runs the cleanup mounts it too, so the init container stays (removing it
 * would only roll the agents again). It runs on every agent start, finds nothing after the first
 * and needs root, no capability and the hosts directory only.
 */
import type { V1Container, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { P2PAccelerationConfigSpec } from "../../crd/p2p-acceleration-config";
import { CONTAINERD_CERTS_DIR, CONTAINERD_CONFIG_DIR } from "../names";

export const CONTAINERD_CERTS_VOLUME = "containerd-certs";
const CONTAINERD_CONFIG_VOLUME = "containerd-config";

/** The bit of a live DaemonSet this decision reads. */
export interface DaemonSetVolumes {
  spec?: { template?: { spec?: { volumes?: { name?: string }[] } } };
}

/** Should the rewrite-mode agents clean up hosts.toml files that mirror-mode agents left? */
export function mirrorCleanupNeeded(
  spec: P2PAccelerationConfigSpec,
  live: DaemonSetVolumes | undefined,
): boolean {
  if (spec.mode === "mirror") return false;
  return mountsHostsDir(live);
}

/** The live agent DaemonSet mounts the node's hosts directory (mirror mode, or its cleanup). */
export function mountsHostsDir(live: DaemonSetVolumes | undefined): boolean {
  return (live?.spec?.template?.spec?.volumes ?? []).some(v => v.name === CONTAINERD_CERTS_VOLUME);
}

export function containerdCertsVolume(): V1Volume {
  return {
    name: CONTAINERD_CERTS_VOLUME,
    hostPath: { path: CONTAINERD_CERTS_DIR, type: "DirectoryOrCreate" },
  };
}

export function containerdCertsMount(): V1VolumeMount {
  return { name: CONTAINERD_CERTS_VOLUME, mountPath: CONTAINERD_CERTS_DIR };
}

/**
 * The node's containerd config directory, read-only at the same path (the certs.d mount nests in it,
 * read-write): the mirror-mode agent reads config.toml and its imports to check `config_path`.
 */
export function containerdConfigVolume(): V1Volume {
  return {
    name: CONTAINERD_CONFIG_VOLUME,
    hostPath: { path: CONTAINERD_CONFIG_DIR, type: "DirectoryOrCreate" },
  };
}

export function containerdConfigMount(): V1VolumeMount {
  return { name: CONTAINERD_CONFIG_VOLUME, mountPath: CONTAINERD_CONFIG_DIR, readOnly: true };
}

export function mirrorCleanupContainer(image: string): V1Container {
  return {
    name: "mirror-cleanup",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["peerpull-agent"],
    args: ["--containerd-hosts-dir", CONTAINERD_CERTS_DIR, "--containerd-hosts-cleanup=true"],
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
    // the node's hosts directory and the agent's files in it belong to root
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    volumeMounts: [containerdCertsMount()],
  };
}
