/**
 * The reconciler capability's bindings. Every event only asks the controller for a pass: the pass
 * itself reads the current state, so a missed or repeated event changes nothing, and the controller
 * retries and resyncs on its own (Pepr's Reconcile queue does neither).
 */
import { a, Capability } from "pepr";
import { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import { ReconcileController } from "./controller";
import { isSecret } from "./credentials-secret";
import { AGENT_NAME } from "./names";

export function reconcilerCapability(controller: ReconcileController, namespace: string): Capability {
  const capability = new Capability({
    name: "reconciler",
    description:
      "Runs the peerpull agents and tracker a P2PAccelerationConfig asks for, and reports their status",
  });
  const { When } = capability;

  When(P2PAccelerationConfig)
    .IsCreatedOrUpdated()
    .Reconcile(() => controller.request("config created or updated"));
  When(P2PAccelerationConfig)
    .IsDeleted()
    .Watch(() => controller.request("config deleted"));
  // the agents' readiness feeds AgentsReady; a deleted DaemonSet comes back at once
  When(a.DaemonSet)
    .IsCreatedOrUpdated()
    .InNamespace(namespace)
    .WithName(AGENT_NAME)
    .Watch(() => controller.request("agent DaemonSet changed"));
  When(a.DaemonSet)
    .IsDeleted()
    .InNamespace(namespace)
    .WithName(AGENT_NAME)
    .Watch(() => controller.request("agent DaemonSet deleted"));

  // a fixed or rotated AccessKey is used at once, not at the next resync (a bad key is not retried
  // with backoff: nothing changes until someone edits the Secret)
  When(a.Secret)
    .IsCreatedOrUpdated()
    .Watch(secret => {
      const { namespace, name } = secret.metadata ?? {};
      if (isSecret(controller.lastResult?.credentialsSecret, namespace, name))
        return controller.request("credentials Secret changed");
    });

  return capability;
}
