/** The generated module YAML (dist/, from `pepr build`) is valid Kubernetes, and never asks for `*`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describeWith } from "../e2e/support/prerequisites";
import { k8sSchemaProblems } from "./testing/k8s-schema";

const built = join(__dirname, "../dist/pepr-module-peerpull.yaml");

// CI builds the module before the tests (.ci/run), so there it must exist; locally it is skipped by name.
describeWith({ files: [{ path: built, madeBy: "npx pepr build" }] }, "dist/pepr-module-peerpull.yaml", () => {
  let docs: Record<string, unknown>[] = [];
  beforeAll(() => {
    docs = parseAllDocuments(readFileSync(built, "utf8"))
      .map(d => d.toJSON())
      .filter(Boolean);
  });

  it("validates against the Kubernetes OpenAPI schemas, every document", () => {
    expect(docs.length).toBeGreaterThan(5);
    expect(docs.flatMap(k8sSchemaProblems)).toEqual([]);
  });

  it("has no wildcard rule", () => {
    const rules = docs.filter(d => d.kind === "ClusterRole" || d.kind === "Role").flatMap(d => d.rules);
    expect(JSON.stringify(rules)).not.toContain('"*"');
  });
});
