/**
 * The folder layering of hack/layering/layers.json holds for the real import graph: no deployable
 * imports another it may not (the Pepr module never reaches agent or tracker code), no agent folder
 * imports against the intended direction, and the table itself has no cycle.
 */
import { join } from "node:path";
import { repositoryImports } from "./import-graph";
import { cyclesOf, Import, Layers, layeringProblems } from "./layering";
import layersJson from "./layers.json";

const ROOT = join(__dirname, "..", "..");
const layers = layersJson as Layers;

describe("the repository's imports", () => {
  it("follow hack/layering/layers.json", () => {
    const folders = [...Object.keys(layers.deployables)];
    const imports = repositoryImports(ROOT, folders);
    expect(imports.length).toBeGreaterThan(500); // the sources were found and read
    expect(layeringProblems(layers, imports)).toEqual([]);
  });
});

describe("layeringProblems", () => {
  const table: Layers = {
    deployables: { protocol: [], agent: ["protocol"], capabilities: ["protocol"], hack: "*" },
    testsMayAlsoImport: ["hack"],
    protocolPackages: ["node:crypto"],
    agentFolders: { "main.ts": "*", http: ["cache"], cache: [], testing: ["cache"] },
    agentTestsMayAlsoImport: ["testing"],
    pending: [{ from: "agent/src/cache/old.ts", to: "http", why: "moving" }],
  };
  const pendingEdge = { from: "agent/src/cache/old.ts", specifier: "../http/x", to: "agent/src/http/x.ts" };
  const rows: { name: string; edge: Import; problem?: RegExp }[] = [
    {
      name: "an allowed deployable",
      edge: { from: "agent/src/main.ts", specifier: "../../protocol/a", to: "protocol/a.ts" },
    },
    {
      name: "the Pepr module reaching agent code",
      edge: { from: "capabilities/x.ts", specifier: "../agent/src/cache/y", to: "agent/src/cache/y.ts" },
      problem: /capabilities may import only protocol, not agent/,
    },
    {
      name: "a test using the harness",
      edge: { from: "agent/src/cache/a.test.ts", specifier: "../../../hack/t", to: "hack/t.ts" },
    },
    {
      name: "code using the harness",
      edge: { from: "agent/src/cache/a.ts", specifier: "../../../hack/t", to: "hack/t.ts" },
      problem: /agent may import only protocol, not hack/,
    },
    {
      name: "a downward folder import",
      edge: { from: "agent/src/http/a.ts", specifier: "../cache/b", to: "agent/src/cache/b.ts" },
    },
    {
      name: "an upward folder import",
      edge: { from: "agent/src/cache/b.ts", specifier: "../http/a", to: "agent/src/http/a.ts" },
      problem: /agent\/src\/cache may import only nothing else, not http/,
    },
    {
      name: "a test's in-memory twin",
      edge: { from: "agent/src/http/a.test.ts", specifier: "../testing/m", to: "agent/src/testing/m.ts" },
    },
    {
      name: "a folder missing from the table",
      edge: { from: "agent/src/newfolder/a.ts", specifier: "../cache/b", to: "agent/src/cache/b.ts" },
      problem: /agent\/src\/newfolder is not in/,
    },
    {
      name: "an unresolved relative import",
      edge: { from: "agent/src/http/a.ts", specifier: "../cache/gone" },
      problem: /does not resolve/,
    },
    { name: "a package protocol may use", edge: { from: "protocol/a.ts", specifier: "node:crypto" } },
    {
      name: "I/O in protocol",
      edge: { from: "protocol/a.ts", specifier: "node:fs" },
      problem: /protocol\/ is pure/,
    },
  ];
  it.each(rows)("$name", ({ edge, problem }) => {
    const problems = layeringProblems(table, [edge, pendingEdge]);
    if (problem === undefined) expect(problems).toEqual([]);
    else expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  it("asks for a pending exception to be deleted once the import is gone", () => {
    expect(layeringProblems(table, [])).toEqual([
      "layers.json: the pending exception agent/src/cache/old.ts -> http no longer occurs; delete it",
    ]);
  });

  it("finds cycles in a table", () => {
    expect(cyclesOf({ a: ["b"], b: ["c"], c: ["a"], d: "*" })).toEqual([["a", "b", "c", "a"]]);
    expect(cyclesOf(layers.agentFolders)).toEqual([]);
    expect(cyclesOf(layers.deployables)).toEqual([]);
  });
});
