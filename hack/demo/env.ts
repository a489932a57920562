/** What the demo needs from the machine it runs on: network-namespace nodes, or loopback. */
import type { OciLayout } from "../testenv/oci-image";
import type { NodeCommand } from "./pull";

/** The name agents serve the registry as (rewrite naming: 127.0.0.1:65001/registry.demo/...). */
export const REGISTRY_NAME = "registry.demo";
export const REPO = "demo/app";
export const TAG = "1";

export interface AgentSources {
  /** peerpull_origin_bytes_total: what the agent fetched from the registry. */
  fromRegistry: number;
  /** peerpull_peer_download_bytes_total: what it fetched from other nodes. */
  fromPeers: number;
}

export interface DemoEnv {
  readonly kind: "netns" | "loopback";
  /** One line each: how this differs from real nodes (printed before the run). */
  readonly notes: string[];
  readonly nodeCount: number;
  /** Where the registry's, tracker's and agents' logs are (one line). */
  readonly logHint: string;
  /** How node `i` runs a command (its namespace, or this machine). */
  on(i: number): NodeCommand;
  /** The image's repository URL as node `i` reaches the registry itself. */
  registryRepoUrl(i: number): string;
  /** The same through node `i`'s agent, in rewrite naming. */
  agentRepoUrl(i: number): string;
  pushImage(layout: OciLayout): Promise<void>;
  registryMark(): Promise<number>;
  /** Blob bytes the registry served since `mark`, from its access log. */
  registryBlobBytes(mark: number): Promise<number>;
  agentSources(i: number): Promise<AgentSources>;
  /** Shell commands that pull the image while everything runs (--keep). */
  keepCommands(): string[];
  stop(): Promise<void>;
}

export function sourcesFrom(samples: { name: string; value: number }[]): AgentSources {
  const sum = (name: string) => samples.filter(s => s.name === name).reduce((a, s) => a + s.value, 0);
  return {
    fromRegistry: sum("peerpull_origin_bytes_total"),
    fromPeers: sum("peerpull_peer_download_bytes_total"),
  };
}
