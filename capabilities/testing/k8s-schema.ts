/**
 * Validates a manifest against the Kubernetes OpenAPI schema of its kind (kubernetes-models, which
 * generates its validators from the upstream OpenAPI spec). Returns the problems, [] when valid.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

type Validating = new (data: unknown) => { validate(): void };

const modelsRoot = dirname(require.resolve("kubernetes-models/package.json"));

export function k8sSchemaProblems(object: { apiVersion?: string; kind?: string }): string[] {
  const { apiVersion, kind } = object;
  if (!apiVersion || !kind) return ["apiVersion and kind are required"];
  const path = join(modelsRoot, apiVersion, `${kind}.js`);
  if (!existsSync(path)) return [`no schema for ${apiVersion} ${kind}`];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = (require(path) as Record<string, Validating>)[kind];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [
      `${kind} ${(object as { metadata?: { name?: string } }).metadata?.name}: ${(err as Error).message}`,
    ];
  }
}
