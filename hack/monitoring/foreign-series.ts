/**
 * Series that only a cluster produces (kube-state-metrics) or that only a running Pepr module
 * serves, for tests where they cannot come from a real process: a text exposition with the exact
 * names and labels those components export, served by `python3 -m http.server` from a directory
 * (`<dir>/<name>/metrics`), rewritten atomically whenever the test changes a value.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface DaemonSetStatus {
  namespace: string;
  daemonset: string;
  desired: number;
  ready: number;
}

/** kube-state-metrics' DaemonSet status gauges (names, help and labels as kube-state-metrics v2 exports them). */
export function kubeStateMetricsText(statuses: DaemonSetStatus[]): string {
  const lines = (name: string, help: string, value: (s: DaemonSetStatus) => number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...statuses.map(s => `${name}{namespace="${s.namespace}",daemonset="${s.daemonset}"} ${value(s)}`),
  ];
  return [
    ...lines(
      "kube_daemonset_status_desired_number_scheduled",
      "The number of nodes that should be running the daemon pod.",
      s => s.desired,
    ),
    ...lines(
      "kube_daemonset_status_number_ready",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
      s => s.ready,
    ),
    "",
  ].join("\n");
}

/** Writes `<dir>/<name>/metrics` so a scrape never sees half a file. */
export async function publishExposition(dir: string, name: string, text: string): Promise<void> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const temp = join(folder, `.metrics-${process.pid}-${Date.now()}`);
  await writeFile(temp, text);
  await rename(temp, join(folder, "metrics"));
}

/** The command serving `dir` over HTTP on `host:port` (python3's standard library). */
export function staticServerCommand(dir: string, host: string, port: number): [string, string[]] {
  return ["python3", ["-m", "http.server", String(port), "--bind", host, "--directory", dir]];
}
