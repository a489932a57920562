/** Wires the capabilities of the Pepr module to the real cluster. */
import { Log } from "pepr";
import { Registry } from "prom-client";
import { createAcrResolver } from "./acr/create-acr-resolver";
import { podMirrorCapability } from "./pod-mirror/capability";
import { K8sCluster } from "./pod-mirror/k8s-cluster";
import { promMutationMetrics } from "./pod-mirror/metrics";
import { AgentConflictsProbe } from "./reconciler/agent-conflicts";
import { reconcilerCapability } from "./reconciler/capability";
import { ReconcileController } from "./reconciler/controller";
import { readSecretVia } from "./reconciler/credentials-secret";
import { K8sReconcileCluster } from "./reconciler/k8s-reconcile-cluster";
import { SYSTEM_NAMESPACE } from "./reconciler/names";
import { reconcilePass } from "./reconciler/reconcile";

/** Pepr installs the module into pepr-system unless told otherwise. */
export const MODULE_NAMESPACE = process.env.PEPR_NAMESPACE || "pepr-system";

export const PodMirror = podMirrorCapability({
  cluster: new K8sCluster(),
  metrics: promMutationMetrics(new Registry(), true),
  log: Log,
  ignoredNamespaces: new Set(["kube-system", MODULE_NAMESPACE]),
});

const reconcileCluster = new K8sReconcileCluster();
const reconcileDeps = {
  cluster: reconcileCluster,
  log: Log,
  namespace: SYSTEM_NAMESPACE,
  // spec.acrInstances -> registries; reads the credentials Secret through the same cluster client
  acr: createAcrResolver({ readSecret: readSecretVia(reconcileCluster) }),
  // mirror mode: each ready agent's GET /mirror/conflicts, for the config's status
  agentConflicts: new AgentConflictsProbe(),
};
const controller = new ReconcileController({
  pass: retryInSeconds => reconcilePass(reconcileDeps, retryInSeconds),
  log: Log,
});
// Watch bindings (and so reconciling) run only in Pepr's watcher deployment, not during `pepr build`.
if (process.env.PEPR_WATCH_MODE === "true") controller.start();

export const Reconciler = reconcilerCapability(controller, SYSTEM_NAMESPACE);
