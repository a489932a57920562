/** Pure: `npm run demo` arguments -> options, or a one-line error. */

export interface DemoOptions {
  nodes: number;
  /** Link rate of every node's upload and of the registry's, Mbit/s. */
  mbit: number;
  /** Image size, MiB. */
  sizeMiB: number;
  /** Leave everything running after the summary, until Ctrl-C. */
  keep: boolean;
  /** Run on loopback even as root (what happens anyway without root). */
  loopback: boolean;
  /** Where the chart and summary.json go (default: a fresh temp dir). */
  out?: string;
}

export type ParsedArgs =
  | { kind: "run"; options: DemoOptions }
  | { kind: "help" }
  | { kind: "error"; message: string };

export const DEFAULTS: Readonly<DemoOptions> = Object.freeze({
  nodes: 6,
  mbit: 50,
  sizeMiB: 50,
  keep: false,
  loopback: false,
});

export const LIMITS = { nodes: [2, 50], mbit: [1, 10_000], sizeMiB: [1, 4096] } as const;

export const USAGE = `usage: npm run demo -- [--nodes N] [--mbit B] [--size MiB] [--keep] [--loopback] [--out DIR]

  --nodes N     nodes pulling the image (${LIMITS.nodes[0]}-${LIMITS.nodes[1]}, default ${DEFAULTS.nodes})
  --mbit B      every node's and the registry's upload, Mbit/s (default ${DEFAULTS.mbit})
  --size MiB    image size (default ${DEFAULTS.sizeMiB}), split into layers
  --keep        leave the nodes running after the summary and print pull commands; Ctrl-C stops all
  --loopback    no network namespaces even as root (the mode used without root)
  --out DIR     where chart.svg and summary.json go (default: a new directory under /tmp)`;

type Numeric = "nodes" | "mbit" | "sizeMiB";
const NUMERIC: Record<string, Numeric> = { "--nodes": "nodes", "--mbit": "mbit", "--size": "sizeMiB" };
const SWITCHES: Record<string, "keep" | "loopback"> = { "--keep": "keep", "--loopback": "loopback" };

export function parseDemoArgs(argv: readonly string[]): ParsedArgs {
  const options: DemoOptions = { ...DEFAULTS };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (!flag.startsWith("-")) return error(`unexpected argument ${JSON.stringify(arg)}`);
    if (seen.has(flag)) return error(`${flag} given twice`);
    seen.add(flag);
    if (flag in SWITCHES) {
      if (inline !== undefined) return error(`${flag} takes no value`);
      options[SWITCHES[flag]] = true;
      continue;
    }
    if (flag !== "--out" && !(flag in NUMERIC)) return error(`unknown option ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--")))
      return error(`${flag} needs a value`);
    if (flag === "--out") {
      if (value === "") return error("--out needs a directory");
      options.out = value;
    } else {
      const key = NUMERIC[flag];
      const parsed = parseNumber(flag, value, key);
      if (typeof parsed === "string") return error(parsed);
      options[key] = parsed;
    }
  }
  return { kind: "run", options };
}

function parseNumber(flag: string, text: string, key: Numeric): number | string {
  const [min, max] = LIMITS[key];
  const integer = key === "nodes";
  const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = Number(text);
  if (!pattern.test(text) || !Number.isFinite(value))
    return `${flag} expects ${integer ? "a whole number" : "a number"}, got ${JSON.stringify(text)}`;
  if (value < min || value > max) return `${flag} must be between ${min} and ${max}, got ${text}`;
  return value;
}

function error(message: string): ParsedArgs {
  return { kind: "error", message: `${message} (npm run demo -- --help)` };
}
