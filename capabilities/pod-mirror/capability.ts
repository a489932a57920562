/** The pod-mirror capability's bindings: Pod CREATE mutation and derived-secret following. */
import { V1Pod } from "@kubernetes/client-node";
import { a, Capability, Log, PeprMutateRequest } from "pepr";
import { MirrorCluster } from "./cluster";
import { followSecret } from "./follow-secrets";
import { handlePod, PodMirrorDeps } from "./handle-pod";

/** Builds the capability around injected dependencies, so tests bind it to the in-memory cluster. */
export function podMirrorCapability(deps: PodMirrorDeps): Capability {
  const capability = new Capability({
    name: "pod-mirror",
    description: "Rewrites opted-in pods' images to the node-local peerpull agent and copies pull secrets",
  });
  const { When } = capability;

  When(a.Pod)
    .IsCreated()
    .Mutate(async req => mutate(req, deps));

  When(a.Secret)
    .IsUpdated()
    .Watch(secret => follow(secret, false, deps.cluster));
  When(a.Secret)
    .IsDeleted()
    .Watch(secret => follow(secret, true, deps.cluster));

  return capability;
}

async function mutate(req: PeprMutateRequest<V1Pod>, deps: PodMirrorDeps): Promise<void> {
  const outcome = await handlePod(
    {
      pod: req.Raw,
      namespace: req.Request.namespace ?? req.Raw.metadata?.namespace ?? "",
      dryRun: !!req.IsDryRun,
    },
    deps,
  );
  if (outcome.pod) req.Raw = outcome.pod;
}

async function follow(secret: a.Secret, deleted: boolean, cluster: MirrorCluster): Promise<void> {
  try {
    const action = await followSecret(secret, deleted, cluster);
    if (action !== "none")
      Log.info(
        { namespace: secret.metadata?.namespace, secret: secret.metadata?.name, action },
        "derived pull secret followed its original",
      );
  } catch (err) {
    Log.error(
      { namespace: secret.metadata?.namespace, secret: secret.metadata?.name, err: String(err) },
      "derived pull secret not updated",
    );
  }
}
