/**
 * The rule groups inside a prometheus-operator `PrometheusRule` (what `promtool` and a plain
 * Prometheus read as a rule file), and the alerts in them. Pure: text in, values out.
 */
import { parse, stringify } from "yaml";

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

/** `spec` of a PrometheusRule, checked to be one; throws naming what is wrong. */
export function ruleFileOf(manifestText: string): RuleFile {
  const manifest = parse(manifestText) as Record<string, unknown> | null;
  if (typeof manifest !== "object" || manifest === null)
    throw new Error("PrometheusRule: not a YAML mapping");
  if (manifest.apiVersion !== "monitoring.coreos.com/v1")
    throw new Error(
      `PrometheusRule: apiVersion must be monitoring.coreos.com/v1, got ${String(manifest.apiVersion)}`,
    );
  if (manifest.kind !== "PrometheusRule")
    throw new Error(`PrometheusRule: kind must be PrometheusRule, got ${String(manifest.kind)}`);
  const spec = manifest.spec as { groups?: unknown } | undefined;
  if (!Array.isArray(spec?.groups) || spec.groups.length === 0)
    throw new Error("PrometheusRule: spec.groups must be a non-empty list");
  for (const [i, group] of (spec.groups as Partial<RuleGroup>[]).entries()) {
    if (typeof group?.name !== "string") throw new Error(`PrometheusRule: spec.groups[${i}].name is missing`);
    if (!Array.isArray(group.rules)) throw new Error(`PrometheusRule: group ${group.name} has no rules list`);
  }
  return { groups: spec.groups as RuleGroup[] };
}

export function alertsOf(file: RuleFile): AlertingRule[] {
  return file.groups.flatMap(group => group.rules.filter((rule): rule is AlertingRule => "alert" in rule));
}

export function ruleFileText(file: RuleFile): string {
  return stringify(file, { lineWidth: 0 });
}

/** The same rule file with one alert's expression replaced (to prove its unit test can fail). */
export function withAlertExpr(file: RuleFile, alert: string, expr: string): RuleFile {
  let found = false;
  const groups = file.groups.map(group => ({
    ...group,
    rules: group.rules.map(rule => {
      if (!("alert" in rule) || rule.alert !== alert) return rule;
      found = true;
      return { ...rule, expr };
    }),
  }));
  if (!found) throw new Error(`no alert named ${alert}`);
  return { groups };
}
