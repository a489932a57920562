import { alertsOf, ruleFileOf, withAlertExpr } from "./prometheus-rule";

const GOOD = `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: x }
spec:
  groups:
    - name: g
      rules:
        - record: job:up:sum
          expr: sum by (job) (up)
        - alert: Down
          expr: up == 0
          for: 5m
`;

describe("ruleFileOf", () => {
  it("returns spec.groups as a rule file", () => {
    const file = ruleFileOf(GOOD);
    expect(file.groups.map(g => g.name)).toEqual(["g"]);
    expect(alertsOf(file).map(a => a.alert)).toEqual(["Down"]);
  });

  it.each([
    { name: "not a mapping", text: "- a\n- b", error: /apiVersion/ },
    {
      name: "wrong apiVersion",
      text: GOOD.replace("monitoring.coreos.com/v1", "v1"),
      error: /apiVersion must be/,
    },
    {
      name: "wrong kind",
      text: GOOD.replace("kind: PrometheusRule", "kind: ConfigMap"),
      error: /kind must be/,
    },
    {
      name: "no groups",
      text: "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {}",
      error: /spec.groups/,
    },
    {
      name: "group without name",
      text: "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: { groups: [ { rules: [] } ] }",
      error: /name is missing/,
    },
    {
      name: "group without rules",
      text: "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: { groups: [ { name: g } ] }",
      error: /no rules list/,
    },
  ])("rejects $name", ({ text, error }) => {
    expect(() => ruleFileOf(text)).toThrow(error);
  });
});

describe("withAlertExpr", () => {
  it("replaces one alert's expression and leaves the input alone", () => {
    const file = ruleFileOf(GOOD);
    const changed = withAlertExpr(file, "Down", "vector(1)");
    expect(alertsOf(changed)[0].expr).toBe("vector(1)");
    expect(alertsOf(file)[0].expr).toBe("up == 0");
  });

  it("throws for an unknown alert", () => {
    expect(() => withAlertExpr(ruleFileOf(GOOD), "Nope", "vector(1)")).toThrow(/no alert named Nope/);
  });
});
