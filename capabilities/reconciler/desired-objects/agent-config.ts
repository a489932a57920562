/**
 * Pure: the spec and resolved registries -> the agent's config file (the ConfigMap `peerpull-agent`,
 * key `agent.yaml`), checked with the agent's own field table before it is rendered.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { agentConfigFileProblems } from "../../../protocol/agent-config-file";
import { DEFAULT_P2P_PORT } from "../../crd/p2p-acceleration-config";
import {
  AGENT_CONFIG_KEY,
  AGENT_NAME,
  CACHE_DIR,
  CONTAINERD_CERTS_DIR,
  CONTAINERD_CONFIG_FILE,
  PEER_TOKEN_KEY,
  TOKEN_DIR,
  labelsOf,
  trackerUrls,
} from "../names";
import { DesiredInput, ManifestObject } from "./types";

export type AgentConfigFile = Record<string, unknown>;

export function swarmEnabled(input: Pick<DesiredInput, "spec">): boolean {
  return (input.spec.p2p?.downloadPattern ?? "p2p") === "p2p";
}

/** The agent config file as a plain object (keys are the agent's `--config` keys). */
export function agentConfigFile(input: DesiredInput): AgentConfigFile {
  const p2p = input.spec.p2p ?? {};
  const doc: AgentConfigFile = {
    listen: `127.0.0.1:${p2p.port ?? DEFAULT_P2P_PORT}`,
    upstreams: dedupe(input.registries).map(r => ({ host: r.host, origin: r.origin })),
    cacheDir: CACHE_DIR,
    cacheTTL: p2p.cacheTTL ?? "24h",
    cacheMaxBytes: p2p.cacheMaxSize ?? "0",
    ratelimit: p2p.ratelimit ?? "512M",
    downloadPattern: p2p.downloadPattern ?? "p2p",
  };
  // mirror mode: the agent keeps a hosts.toml per upstream in the node's directory (mounted there),
  // and reads the node's containerd config to say plainly when CRI does not read that directory
  if (input.spec.mode === "mirror") {
    doc.containerdHostsDir = CONTAINERD_CERTS_DIR;
    doc.containerdConfig = CONTAINERD_CONFIG_FILE;
  }
  if (swarmEnabled(input)) {
    doc.tracker = trackerUrls(input.namespace, input.spec.tracker?.replicas ?? 1).join(",");
    doc.peerTokenFile = `${TOKEN_DIR}/${PEER_TOKEN_KEY}`;
  }
  return doc;
}

/** The same host listed twice (a static entry and an ACR domain): the first wins. */
function dedupe<T extends { host: string }>(registries: readonly T[]): T[] {
  const seen = new Set<string>();
  return registries.filter(r => {
    const host = r.host.toLowerCase();
    if (seen.has(host)) return false;
    seen.add(host);
    return true;
  });
}

export function agentConfigProblems(doc: AgentConfigFile): string[] {
  return agentConfigFileProblems(doc);
}

export function agentConfigMap(input: DesiredInput, doc: AgentConfigFile): ManifestObject {
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: AGENT_NAME, namespace: input.namespace, labels: labelsOf(AGENT_NAME) },
    data: { [AGENT_CONFIG_KEY]: stringify(doc) },
  } satisfies V1ConfigMap;
  return configMap as ManifestObject;
}
