/**
 * Derived secrets follow their originals: an update rewrites the derived copy, a delete removes it.
 * Only originals that already have a derived copy are followed. Errors propagate to the watcher's log.
 */
import { V1Secret } from "@kubernetes/client-node";
import { MirrorCluster } from "./cluster";
import { deriveSecret, derivedSecretName, isDerivedSecret } from "./docker-config";
import { selectSettings } from "./settings";

export type FollowAction = "none" | "updated" | "deleted";

export async function followSecret(
  original: V1Secret,
  deleted: boolean,
  cluster: MirrorCluster,
): Promise<FollowAction> {
  const name = original.metadata?.name;
  const namespace = original.metadata?.namespace;
  if (!name || !namespace || isDerivedSecret(original)) return "none";
  const derivedName = derivedSecretName(name);
  if (!derivedName) return "none";
  const existing = await cluster.readSecret(namespace, derivedName);
  if (!existing || !isDerivedSecret(existing)) return "none";

  const settings = deleted ? undefined : selectSettings(await cluster.accelerationConfigs());
  if (!deleted && !settings) return "none";
  const wanted = settings && deriveSecret(original, settings.port, new Set(settings.registries.keys()));
  if (!wanted) {
    await cluster.deleteSecret(namespace, derivedName);
    return "deleted";
  }
  if (JSON.stringify(existing.data) === JSON.stringify(wanted.data)) return "none";
  await cluster.applySecret(wanted);
  return "updated";
}
