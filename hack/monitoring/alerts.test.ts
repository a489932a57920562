/**
 * The PrometheusRule in manifests/monitoring: its groups pass `promtool check rules`, every alert has
 * its own unit-test file that `promtool test rules` passes, and each of those files can fail: with
 * the alert's expression swapped for one that never fires (or always fires), promtool must fail.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";
import { removeDir, tempDir } from "../testenv/processes";
import { alertsOf, ruleFileOf, withAlertExpr, type RuleFile } from "./prometheus-rule";
import { checkRules, testRules } from "./promtool";
import { PROMETHEUS_RULE, ruleTestFiles } from "./monitoring-files";

/** The alerts issue 14 asks for. */
const REQUIRED_ALERTS = [
  "PeerpullAgentsNotReady",
  "PeerpullOffloadCollapsed",
  "PeerpullFallbackRateHigh",
  "PeerpullVerificationFailures",
  "PeerpullOriginAuthUnreachable",
  "PeerpullTrackerDown",
  "PeerpullWebhookErrors",
];

interface UnitTestFile {
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

/** Per alert: how many checks expect it firing and how many expect it quiet. */
function coverageOf(path: string): Map<string, { firing: number; quiet: number }> {
  const file = parse(readFileSync(path, "utf8")) as UnitTestFile;
  const coverage = new Map<string, { firing: number; quiet: number }>();
  for (const test of file.tests ?? [])
    for (const check of test.alert_rule_test ?? []) {
      const entry = coverage.get(check.alertname) ?? { firing: 0, quiet: 0 };
      if ((check.exp_alerts ?? []).length > 0) entry.firing++;
      else entry.quiet++;
      coverage.set(check.alertname, entry);
    }
  return coverage;
}

jest.setTimeout(120_000);

describe("PrometheusRule manifests/monitoring/prometheusrule.yaml", () => {
  let rules: RuleFile;
  let dir: string;

  beforeAll(async () => {
    rules = ruleFileOf(readFileSync(PROMETHEUS_RULE, "utf8"));
    dir = await tempDir("rules");
  });
  afterAll(() => removeDir(dir));

  it("has every alert the issue asks for", () => {
    expect(alertsOf(rules).map(a => a.alert)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
  });

  it("gives every alert a severity, a summary and a one-line runbook", () => {
    for (const alert of alertsOf(rules)) {
      expect([alert.alert, alert.labels?.severity]).toEqual([
        alert.alert,
        expect.stringMatching(/^(warning|critical)$/),
      ]);
      expect(alert.annotations?.summary).toBeTruthy();
      expect(alert.annotations?.runbook).toMatch(/^[^\n]{20,}$/);
    }
  });

  it("passes promtool check rules", async () => {
    const result = await checkRules(dir, rules);
    expect(result).toEqual({ ok: true, output: expect.stringContaining("SUCCESS") });
  });

  it("promtool check rules refuses a broken expression (the check can fail)", async () => {
    const broken = withAlertExpr(rules, REQUIRED_ALERTS[0], "sum(rate(up[5m])");
    expect((await checkRules(dir, broken, "broken.yaml")).ok).toBe(false);
  });

  it("has one unit-test file per alert, each expecting it both firing and quiet", () => {
    const owners = new Map<string, string[]>();
    for (const path of ruleTestFiles())
      for (const [alert, counts] of coverageOf(path)) {
        expect({ file: basename(path), alert, firing: counts.firing > 0, quiet: counts.quiet > 0 }).toEqual({
          file: basename(path),
          alert,
          firing: true,
          quiet: true,
        });
        owners.set(alert, [...(owners.get(alert) ?? []), basename(path)]);
      }
    for (const alert of alertsOf(rules))
      expect([alert.alert, owners.get(alert.alert)?.length]).toEqual([alert.alert, 1]);
  });

  it("passes promtool test rules", async () => {
    const result = await testRules(dir, rules, ruleTestFiles());
    if (!result.ok) throw new Error(result.output);
    expect(result.output).not.toMatch(/FAILED/);
  });

  describe.each(REQUIRED_ALERTS.map(alert => ({ alert })))("the unit test of $alert", ({ alert }) => {
    const file = () => ruleTestFiles().find(path => coverageOf(path).has(alert))!;

    it("fails when the alert never fires", async () => {
      const result = await testRules(dir, withAlertExpr(rules, alert, "vector(1) == 0"), [file()]);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(new RegExp(`alertname: ${alert}[\\s\\S]*got: ?\\[\\]`));
    });

    it("fails when the alert always fires", async () => {
      const result = await testRules(dir, withAlertExpr(rules, alert, "vector(1)"), [file()]);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(new RegExp(`alertname: ${alert}[\\s\\S]*exp: ?\\[\\]`));
    });
  });
});
