/**
 * The thin layer between desired objects and the API: apply them in order (server-side apply, field
 * manager `peerpull`), remove managed objects no longer desired, and remove everything on cleanup.
 * The first error stops the sequence and propagates: the pass reports it and is retried.
 */
import { ReconcileCluster } from "./cluster";
import { ManifestObject, managedRefs, refOf, sameRef } from "./desired-objects";

export async function applyDesired(
  cluster: ReconcileCluster,
  objects: readonly ManifestObject[],
  namespace: string,
): Promise<void> {
  for (const object of objects) await cluster.apply(object);
  const wanted = objects.map(refOf);
  // e.g. the tracker after downloadPattern: source; never the namespace itself
  for (const ref of managedRefs(namespace))
    if (ref.kind !== "Namespace" && !wanted.some(w => sameRef(w, ref))) await cluster.remove(ref);
}

/** Derived pull secrets in tenant namespaces first, then every managed object, namespace last. */
export async function removeEverything(cluster: ReconcileCluster, namespace: string): Promise<void> {
  for (const secret of await cluster.derivedSecrets())
    await cluster.remove({ apiVersion: "v1", kind: "Secret", ...secret });
  for (const ref of managedRefs(namespace)) await cluster.remove(ref);
}
