/** Where the monitoring objects live in the repository (manifests/monitoring). */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const MONITORING_DIR = join(repoRoot(), "manifests", "monitoring");
export const PROMETHEUS_RULE = join(MONITORING_DIR, "prometheusrule.yaml");
export const DASHBOARD = join(MONITORING_DIR, "grafana", "peerpull-dashboard.json");
export const RULE_TESTS_DIR = join(MONITORING_DIR, "tests");

export function ruleTestFiles(): string[] {
  return readdirSync(RULE_TESTS_DIR)
    .filter(name => name.endsWith(".test.yaml"))
    .sort()
    .map(name => join(RULE_TESTS_DIR, name));
}

/** The Kubernetes objects `kubectl apply -f manifests/monitoring/` applies (YAML files at the top). */
export function monitoringManifests(): string[] {
  return readdirSync(MONITORING_DIR)
    .filter(name => /\.(ya?ml|json)$/.test(name))
    .sort()
    .map(name => join(MONITORING_DIR, name));
}

/** Scrape jobs as the monitors name them (job label); the rules and the dashboard select by these. */
export const JOBS = {
  agent: "peerpull-agent",
  tracker: "peerpull-tracker",
  module: "pepr-peerpull",
} as const;
