/**
 * A private Prometheus (Debian's `prometheus`) inside a test network namespace: a generated scrape
 * config with static targets labelled the way prometheus-operator labels the monitors' targets,
 * optional rule files, TSDB in a temp dir, listening on the namespace's own loopback. The test
 * process reaches its HTTP API with curl inside the namespace (hack/netns `httpIn`).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { httpIn, logIn, waitForHttpIn, type NetnsNetwork } from "../netns/netns";
import type { ManagedProcess } from "../testenv/processes";

export interface ScrapeTarget {
  /** host:port */
  address: string;
  labels?: Record<string, string>;
}

export interface ScrapeJob {
  job: string;
  targets: ScrapeTarget[];
  metricsPath?: string;
  /** Keep the target's own labels (kube-state-metrics' namespace, daemonset), as its monitor does. */
  honorLabels?: boolean;
}

export interface PrometheusConfigOptions {
  scrapeIntervalS: number;
  jobs: ScrapeJob[];
  /** Paths of rule files (plain Prometheus rule groups). */
  ruleFiles?: string[];
}

/** prometheus.yml for the options (pure). */
export function prometheusConfig(options: PrometheusConfigOptions): string {
  if (!(options.scrapeIntervalS >= 1)) throw new Error("scrapeIntervalS must be at least 1");
  const names = new Set<string>();
  for (const job of options.jobs) {
    if (names.has(job.job)) throw new Error(`duplicate scrape job ${job.job}`);
    names.add(job.job);
  }
  const interval = `${options.scrapeIntervalS}s`;
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: options.jobs.map(job => ({
      job_name: job.job,
      metrics_path: job.metricsPath ?? "/metrics",
      honor_labels: job.honorLabels ?? false,
      static_configs: job.targets.map(target => ({ targets: [target.address], labels: target.labels ?? {} })),
    })),
  });
}

export type Sample = [number, string];

export interface Series {
  metric: Record<string, string>;
  values: Sample[];
}

interface ApiAnswer<T> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
}

export interface RuleState {
  name: string;
  type: "alerting" | "recording";
  health: string;
  lastError?: string;
  state?: string;
  lastEvaluation: string;
}

export interface PrometheusInNs {
  /** http://127.0.0.1:PORT inside the namespace */
  url: string;
  process: ManagedProcess;
  /** Instant query at `timeS`; series with one sample each. */
  query(expr: string, timeS?: number): Promise<Series[]>;
  queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<Series[]>;
  /** GET /api/v1/label/<label>/values?match[]=<match>, as Grafana resolves label_values(). */
  labelValues(label: string, match: string): Promise<string[]>;
  rules(): Promise<RuleState[]>;
}

export class PrometheusQueryError extends Error {}

export interface StartPrometheusOptions {
  network: Pick<NetnsNetwork, "exec" | "spawnIn">;
  ns: string;
  dir: string;
  config: string;
  port?: number;
}

export async function startPrometheusIn(options: StartPrometheusOptions): Promise<PrometheusInNs> {
  const { network, ns, dir } = options;
  const configPath = join(dir, "prometheus.yml");
  await writeFile(configPath, options.config);
  const listen = `127.0.0.1:${options.port ?? 9090}`;
  const args = [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=${listen}`,
    "--storage.tsdb.retention.time=1h",
  ];
  const proc = await network.spawnIn(ns, "prometheus", args, { logPath: logIn(dir, "prometheus") });
  const url = `http://${listen}`;
  await waitForHttpIn(network, ns, `${url}/-/ready`, { statuses: [200], process: proc, timeoutMs: 30_000 });

  const api = async <T>(path: string, params: Record<string, string | number>): Promise<T> => {
    const query = Object.entries(params)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    const reply = await httpIn(network, ns, `${url}${path}${query ? `?${query}` : ""}`, {
      keepBody: true,
      timeoutMs: 15_000,
    });
    let answer: ApiAnswer<T>;
    try {
      answer = JSON.parse(reply.body) as ApiAnswer<T>;
    } catch {
      throw new PrometheusQueryError(`${path}: HTTP ${reply.status}, not JSON: ${reply.body.slice(0, 200)}`);
    }
    if (answer.status !== "success" || answer.data === undefined)
      throw new PrometheusQueryError(
        `${path} ${JSON.stringify(params)}: ${answer.errorType}: ${answer.error}`,
      );
    return answer.data;
  };
  type Vector = { result: { metric: Record<string, string>; value: Sample }[] };
  type Matrix = { result: Series[] };

  return {
    url,
    process: proc,
    async query(expr, timeS) {
      const data = await api<Vector>(
        "/api/v1/query",
        timeS === undefined ? { query: expr } : { query: expr, time: timeS },
      );
      return data.result.map(r => ({ metric: r.metric, values: [r.value] }));
    },
    async queryRange(expr, startS, endS, stepS) {
      const data = await api<Matrix>("/api/v1/query_range", {
        query: expr,
        start: startS,
        end: endS,
        step: stepS,
      });
      return data.result;
    },
    labelValues: (label, match) =>
      api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { "match[]": match }),
    async rules() {
      const data = await api<{ groups: { rules: RuleState[] }[] }>("/api/v1/rules", {});
      return data.groups.flatMap(g => g.rules);
    },
  };
}
