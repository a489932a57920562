/** Wires the capabilities of the Pepr module to the real cluster. */
import { Log } from "pepr";
import { Registry } from "prom-client";
import { podMirrorCapability } from "./pod-mirror/capability";
import { K8sCluster } from "./pod-mirror/k8s-cluster";
import { promMutationMetrics } from "./pod-mirror/metrics";

/** Pepr installs the module into pepr-system unless told otherwise. */
export const MODULE_NAMESPACE = process.env.PEPR_NAMESPACE || "pepr-system";

export const PodMirror = podMirrorCapability({
  cluster: new K8sCluster(),
  metrics: promMutationMetrics(new Registry(), true),
  log: Log,
  ignoredNamespaces: new Set(["kube-system", MODULE_NAMESPACE]),
});
