/**
 * Reading a Grafana dashboard the way Grafana runs it against Prometheus: its panels (rows
 * flattened), their PromQL targets, its template variables, and the text Grafana sends after
 * interpolating `$node`, `${datasource}`, `$__rate_interval`, `$__interval` and `$__range`.
 * Pure: no I/O. Used by the dashboard's structure test and by the end-to-end Prometheus test.
 */

export interface GrafanaTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  /** Grafana evaluates an instant target once at the end of the range; others as a range query. */
  instant?: boolean;
  range?: boolean;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

/** Built-in variables Grafana fills in for a Prometheus query. */
export const BUILTIN_VARIABLES = ["__rate_interval", "__interval", "__range"] as const;

export function parseDashboard(text: string): GrafanaDashboard {
  const dashboard = JSON.parse(text) as Partial<GrafanaDashboard>;
  if (typeof dashboard !== "object" || dashboard === null) throw new Error("dashboard: not a JSON object");
  if (!Array.isArray(dashboard.panels)) throw new Error("dashboard: no panels array");
  if (!Array.isArray(dashboard.templating?.list)) throw new Error("dashboard: no templating.list");
  if (typeof dashboard.uid !== "string" || typeof dashboard.title !== "string")
    throw new Error("dashboard: uid and title must be strings");
  return dashboard as GrafanaDashboard;
}

/** Every panel that shows data: rows are flattened (a collapsed row keeps its panels inside). */
export function dataPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap(panel =>
    panel.type === "row" ? (panel.panels ?? []).filter(p => p.type !== "row") : [panel],
  );
}

export function rowPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return dashboard.panels.filter(panel => panel.type === "row");
}

/** `$name`, `${name}`, `${name:format}` and `[[name]]` references in a text. */
export function variableReferences(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]/g))
    names.add(match[1] ?? match[2] ?? match[3]);
  return [...names];
}

export function variableQuery(variable: GrafanaVariable): string {
  if (typeof variable.query === "string") return variable.query;
  return variable.query?.query ?? "";
}

/** `label_values(<selector>, <label>)`, the variable query form Grafana resolves via /api/v1/label. */
export function parseLabelValuesQuery(query: string): { match: string; label: string } {
  const parsed = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/.exec(query);
  if (!parsed) throw new Error(`not a label_values(selector, label) query: ${JSON.stringify(query)}`);
  return { match: parsed[1], label: parsed[2] };
}

export interface TimeWindow {
  fromS: number;
  toS: number;
  /** Points Grafana asks for (about the panel's width in pixels). */
  maxDataPoints: number;
  /** The data source's scrape interval setting, which is also the minimum interval. */
  scrapeIntervalS: number;
}

/**
 * Grafana's interval variables for a time window: `$__interval` is the range over max data points,
 * never below the scrape interval (Grafana also rounds it to a "nice" step; whole seconds here);
 * `$__rate_interval` is max($__interval + scrape interval, 4 x scrape interval); `$__range` the range.
 */
export function intervalsFor(window: TimeWindow): {
  intervalS: number;
  rateIntervalS: number;
  rangeS: number;
} {
  if (!(window.toS > window.fromS)) throw new Error("time window: to must be after from");
  if (!(window.scrapeIntervalS > 0) || !(window.maxDataPoints > 0))
    throw new Error("time window: scrape interval and max data points must be positive");
  const rangeS = Math.round(window.toS - window.fromS);
  const intervalS = Math.max(window.scrapeIntervalS, Math.ceil(rangeS / window.maxDataPoints));
  const rateIntervalS = Math.max(intervalS + window.scrapeIntervalS, 4 * window.scrapeIntervalS);
  return { intervalS, rateIntervalS, rangeS };
}

/**
 * The query text Grafana sends: built-ins as durations, template variables by value. A multi-value
 * variable inside a regex matcher becomes `(a|b)` with regex characters escaped; "All" becomes the
 * variable's allValue. Throws on a reference to anything undefined.
 */
export function interpolate(
  expr: string,
  values: Record<string, string | string[]>,
  intervals: { intervalS: number; rateIntervalS: number; rangeS: number },
): string {
  const builtins: Record<string, string> = {
    __rate_interval: `${intervals.rateIntervalS}s`,
    __interval: `${intervals.intervalS}s`,
    __range: `${intervals.rangeS}s`,
  };
  const replace = (name: string): string => {
    if (name in builtins) return builtins[name];
    const value = values[name];
    if (value === undefined) throw new Error(`undefined variable $${name} in ${expr}`);
    if (!Array.isArray(value)) return value;
    if (value.length === 1) return escapeRegex(value[0]);
    return `(${value.map(escapeRegex).join("|")})`;
  };
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (_, a, b, c) => replace(a ?? b ?? c));
}

/**
 * Grafana's escape for a value inside a PromQL regex string (its prometheusSpecialRegexEscape): the
 * regex needs `\.`, and inside a double-quoted PromQL string that is written `\\.`.
 */
function escapeRegex(value: string): string {
  return value.replace(/\\/g, "\\\\\\\\").replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");
}

export interface PanelQuery {
  panel: GrafanaPanel;
  target: GrafanaTarget;
}

/** Every PromQL target of every data panel. */
export function panelQueries(dashboard: GrafanaDashboard): PanelQuery[] {
  return dataPanels(dashboard).flatMap(panel => (panel.targets ?? []).map(target => ({ panel, target })));
}
