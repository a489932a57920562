/**
 * The monitor objects in manifests/monitoring: plain Kubernetes objects (`kubectl apply -f` the
 * folder), selecting the pods and ports the agreed names give them, and producing the job and node
 * labels that the rules and the dashboard select on.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";
import { DASHBOARD, JOBS, monitoringManifests, PROMETHEUS_RULE } from "./monitoring-files";

interface Monitor {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    jobLabel?: string;
    selector: { matchLabels: Record<string, string> };
    namespaceSelector?: { matchNames?: string[] };
    podMetricsEndpoints?: {
      port?: string;
      path?: string;
      relabelings?: { sourceLabels?: string[]; targetLabel?: string }[];
    }[];
    endpoints?: { targetPort?: number; scheme?: string; path?: string }[];
  };
}

function load(name: string): Monitor {
  const path = monitoringManifests().find(p => basename(p) === name);
  if (!path) throw new Error(`${name} is missing from manifests/monitoring`);
  return parse(readFileSync(path, "utf8")) as Monitor;
}

/** The job label a PodMonitor gives its series: the value of the pod label named by jobLabel. */
function jobOf(monitor: Monitor): string | undefined {
  return monitor.spec.jobLabel ? monitor.spec.selector.matchLabels[monitor.spec.jobLabel] : undefined;
}

describe("manifests/monitoring objects", () => {
  it("are all Kubernetes objects with a name and a namespace (kubectl apply -f the folder)", () => {
    const files = monitoringManifests();
    expect(files.map(f => basename(f)).sort()).toEqual([
      "podmonitor-agent.yaml",
      "podmonitor-tracker.yaml",
      "prometheusrule.yaml",
      "servicemonitor-module.yaml",
    ]);
    for (const file of files) {
      const object = parse(readFileSync(file, "utf8")) as Monitor;
      expect([
        basename(file),
        object.apiVersion,
        typeof object.metadata?.name,
        typeof object.metadata?.namespace,
      ]).toEqual([basename(file), "monitoring.coreos.com/v1", "string", "string"]);
    }
  });

  it.each([
    { name: "agents", file: "podmonitor-agent.yaml", pods: "peerpull-agent", port: "peer", job: JOBS.agent },
    {
      name: "trackers",
      file: "podmonitor-tracker.yaml",
      pods: "peerpull-tracker",
      port: "api",
      job: JOBS.tracker,
    },
  ])(
    "the $name PodMonitor selects the $pods pods' $port port and labels them job=$job",
    ({ file, pods, port, job }) => {
      const monitor = load(file);
      expect(monitor.kind).toBe("PodMonitor");
      expect(monitor.metadata.namespace).toBe("peerpull-system");
      expect(monitor.spec.selector.matchLabels).toEqual({
        "app.kubernetes.io/part-of": "peerpull",
        "app.kubernetes.io/name": pods,
      });
      expect(monitor.spec.podMetricsEndpoints?.map(e => [e.port, e.path])).toEqual([[port, "/metrics"]]);
      expect(jobOf(monitor)).toBe(job);
    },
  );

  it("the agents' series carry the Kubernetes node as label node (the dashboard's variable)", () => {
    const relabelings = load("podmonitor-agent.yaml").spec.podMetricsEndpoints?.[0].relabelings ?? [];
    expect(relabelings).toContainEqual({
      sourceLabels: ["__meta_kubernetes_pod_node_name"],
      targetLabel: "node",
    });
  });

  it("the module ServiceMonitor scrapes Pepr's admission Service over HTTPS on 3000", () => {
    const monitor = load("servicemonitor-module.yaml");
    expect(monitor.kind).toBe("ServiceMonitor");
    expect(monitor.metadata.namespace).toBe("pepr-system");
    expect(monitor.spec.selector.matchLabels).toEqual({ "pepr.dev/controller": "admission" });
    expect(monitor.spec.namespaceSelector?.matchNames).toEqual(["pepr-system"]);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ targetPort: 3000, scheme: "https" })]);
  });

  it.each([
    { name: "the PrometheusRule", file: PROMETHEUS_RULE },
    { name: "the dashboard", file: DASHBOARD },
  ])("$name selects only jobs the monitors produce", ({ file }) => {
    const jobs = [...readFileSync(file, "utf8").matchAll(/job\s*=~?\s*\\?"([^"\\]+)\\?"/g)].map(m => m[1]);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(Object.values(JOBS)).toContain(job);
  });
});
