/** Which P2PAccelerationConfig is in force: one rule for the reconciler and the pod mutation. */
import type { P2PAccelerationConfig } from "./p2p-acceleration-config";

export const DEFAULT_CONFIG_NAME = "default";

/** The live config named "default", else the first live one by name (stable); undefined if none. */
export function activeConfig(configs: readonly P2PAccelerationConfig[]): P2PAccelerationConfig | undefined {
  const live = configs.filter(c => c.metadata?.name && !c.metadata.deletionTimestamp);
  return (
    live.find(c => c.metadata!.name === DEFAULT_CONFIG_NAME) ??
    [...live].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))[0]
  );
}
