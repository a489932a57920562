/**
 * Pure: the layering table (`layers.json`) and a list of resolved imports -> every import the table
 * forbids, every cycle in the table, every `pending` exception that no longer occurs. Paths are
 * relative to the repository root, with forward slashes.
 */

export interface Layers {
  deployables: Record<string, readonly string[] | "*">;
  testsMayAlsoImport: readonly string[];
  protocolPackages: readonly string[];
  agentFolders: Record<string, readonly string[] | "*">;
  agentTestsMayAlsoImport: readonly string[];
  pending: readonly { from: string; to: string; why: string }[];
}

/** One import as written (`specifier`) in `from`; `to` is the resolved file, absent for a package. */
export interface Import {
  from: string;
  specifier: string;
  to?: string;
}

const AGENT_SRC = "agent/src/";

/** The deployable (or harness) a file belongs to: its top folder, or a root file's own name. */
export function partOf(file: string): string {
  return file.split("/")[0];
}

/** The agent folder of a file under agent/src/ (a root file is its own module, e.g. `main.ts`). */
export function agentModuleOf(file: string): string | undefined {
  if (!file.startsWith(AGENT_SRC)) return undefined;
  return file
    .slice(AGENT_SRC.length)
    .split("/")[0]
    .replace(/\.test\.ts$/, ".ts");
}

export function isTest(file: string): boolean {
  return file.endsWith(".test.ts");
}

export function layeringProblems(layers: Layers, imports: readonly Import[]): string[] {
  const problems: string[] = [];
  const pendingSeen = new Set<string>();
  for (const edge of imports) {
    const problem = edge.specifier.startsWith(".")
      ? fileProblem(layers, edge, pendingSeen)
      : packageProblem(layers, edge);
    if (problem) problems.push(`${edge.from}: imports "${edge.specifier}": ${problem}`);
  }
  for (const { from, to } of layers.pending)
    if (!pendingSeen.has(`${from} ${to}`))
      problems.push(`layers.json: the pending exception ${from} -> ${to} no longer occurs; delete it`);
  for (const [name, table] of [
    ["deployables", layers.deployables],
    ["agentFolders", layers.agentFolders],
  ] as const)
    for (const cycle of cyclesOf(table)) problems.push(`layers.json ${name}: a cycle ${cycle.join(" -> ")}`);
  return problems;
}

function packageProblem(layers: Layers, edge: Import): string | undefined {
  if (partOf(edge.from) !== "protocol" || isTest(edge.from)) return undefined;
  if (layers.protocolPackages.includes(edge.specifier)) return undefined;
  return `protocol/ is pure and imports only ${layers.protocolPackages.join(", ")}`;
}

function fileProblem(layers: Layers, edge: Import, pendingSeen: Set<string>): string | undefined {
  const to = edge.to;
  if (to === undefined) return "does not resolve to a file";
  const [fromPart, toPart] = [partOf(edge.from), partOf(to)];
  if (toPart === "package.json") return undefined;
  if (fromPart !== toPart) {
    const allowed = layers.deployables[fromPart];
    if (allowed === undefined) return `${fromPart} is not in hack/layering/layers.json`;
    if (allowed === "*" || allowed.includes(toPart)) return undefined;
    if (isTest(edge.from) && layers.testsMayAlsoImport.includes(toPart)) return undefined;
    return `${fromPart} may import only ${describe(allowed)}, not ${toPart}`;
  }
  const [fromModule, toModule] = [agentModuleOf(edge.from), agentModuleOf(to)];
  if (fromModule === undefined || toModule === undefined || fromModule === toModule) return undefined;
  const allowed = layers.agentFolders[fromModule];
  if (allowed === undefined)
    return `agent/src/${fromModule} is not in hack/layering/layers.json agentFolders`;
  if (allowed === "*" || allowed.includes(toModule)) return undefined;
  if (isTest(edge.from) && layers.agentTestsMayAlsoImport.includes(toModule)) return undefined;
  const pending = layers.pending.find(p => p.from === edge.from && p.to === toModule);
  if (pending) {
    pendingSeen.add(`${pending.from} ${pending.to}`);
    return undefined;
  }
  return `agent/src/${fromModule} may import only ${describe(allowed)}, not ${toModule}`;
}

function describe(allowed: readonly string[]): string {
  return allowed.length === 0 ? "nothing else" : allowed.join(", ");
}

/** Every cycle among the explicit lists ("*" parts import anything but nothing may import them). */
export function cyclesOf(table: Record<string, readonly string[] | "*">): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      cycles.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    state.set(node, "open");
    const next = table[node];
    if (Array.isArray(next)) for (const to of next) visit(to, [...path, node]);
    state.set(node, "done");
  };
  for (const node of Object.keys(table)) visit(node, []);
  return cycles;
}
