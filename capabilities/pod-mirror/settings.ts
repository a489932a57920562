/** Pure: the P2PAccelerationConfig objects in the cluster -> what pod mutation needs to know. */
import { normaliseRegistryHost } from "../../protocol/image-reference";
import { activeConfig, DEFAULT_CONFIG_NAME } from "../crd/active-config";
import {
  DEFAULT_OPT_IN_LABEL,
  DEFAULT_P2P_PORT,
  P2PAccelerationConfig,
} from "../crd/p2p-acceleration-config";

export interface MirrorSettings {
  configName: string;
  mode: "rewrite" | "mirror";
  port: number;
  optInLabel: string;
  /** Normalised registry host -> whether images from it may be rewritten without a pull secret. */
  registries: ReadonlyMap<string, { anonymous: boolean }>;
}

export { DEFAULT_CONFIG_NAME };

/**
 * The config named "default" wins; otherwise the first by name, so the choice is stable. Resolved
 * registries in the status are used once a reconciler has filled them; until then spec.registries.
 */
export function selectSettings(configs: readonly P2PAccelerationConfig[]): MirrorSettings | undefined {
  const chosen = activeConfig(configs);
  return chosen && settingsOf(chosen);
}

export function settingsOf(config: P2PAccelerationConfig): MirrorSettings {
  const spec = config.spec ?? {};
  const anonymous = new Set(
    (spec.registries ?? []).filter(r => r.anonymous === true).map(r => normaliseRegistryHost(r.host)),
  );
  const resolved = config.status?.registries?.length ? config.status.registries : (spec.registries ?? []);
  const registries = new Map<string, { anonymous: boolean }>();
  for (const { host } of resolved) {
    if (typeof host !== "string" || host.length === 0) continue;
    const normalised = normaliseRegistryHost(host);
    registries.set(normalised, { anonymous: anonymous.has(normalised) });
  }
  return {
    configName: config.metadata?.name ?? DEFAULT_CONFIG_NAME,
    mode: spec.mode === "mirror" ? "mirror" : "rewrite",
    port: spec.p2p?.port ?? DEFAULT_P2P_PORT,
    optInLabel: spec.optInLabel || DEFAULT_OPT_IN_LABEL,
    registries,
  };
}
