/**
 * The CRD's own openAPIV3Schema, run by a JSON-schema validator (ajv) over the example config in
 * manifests/ and a table of bad configs; plus the CRD itself against the Kubernetes OpenAPI schema.
 * Unknown fields are refused, as `kubectl apply` (strict field validation) does.
 */
import Ajv from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { k8sSchemaProblems } from "../testing/k8s-schema";

const crd = parse(readFileSync(join(__dirname, "../../crds/p2p-acceleration-config.yaml"), "utf8"));
const example = parse(readFileSync(join(__dirname, "../../manifests/p2p-acceleration-config.yaml"), "utf8"));

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; items?: JsonSchema };

/** Structural schema -> JSON schema: objects with listed properties refuse others. */
function strict(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, strict(v)]));
    if (schema.additionalProperties === undefined && schema.type === "object")
      out.additionalProperties = false;
  }
  if (schema.items) out.items = strict(schema.items);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object")
    out.additionalProperties = strict(schema.additionalProperties as JsonSchema);
  return out;
}

const root = strict(crd.spec.versions[0].schema.openAPIV3Schema);
// metadata is validated by the API server itself, not by the CRD schema
(root.properties!.metadata as JsonSchema).additionalProperties = true;
const ajv = new Ajv({
  allErrors: true,
  strict: false,
  formats: { "date-time": /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ },
});
const validate = ajv.compile(root);

function problems(object: unknown): string {
  return validate(object) ? "" : ajv.errorsText(validate.errors, { separator: "\n" });
}

const config = (spec: Record<string, unknown>) => ({
  apiVersion: "peerpull.io/v1alpha1",
  kind: "P2PAccelerationConfig",
  metadata: { name: "default" },
  spec,
});

describe("the CRD's openAPIV3Schema", () => {
  it("accepts manifests/p2p-acceleration-config.yaml, which sets every spec field", () => {
    expect(problems(example)).toBe("");
    const set = Object.keys(example.spec).sort();
    const declared = Object.keys(
      crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties,
    ).sort();
    // region and acrInstances are commented out in the example (they need the cloud)
    expect(set).toEqual(declared.filter(k => k !== "region" && k !== "acrInstances"));
    expect(readFileSync(join(__dirname, "../../manifests/p2p-acceleration-config.yaml"), "utf8")).toMatch(
      /# region: cn-hangzhou\n\s*# acrInstances: \[cri-/,
    );
  });

  const bad: { name: string; spec: Record<string, unknown>; message: RegExp }[] = [
    {
      name: "a size with an unknown unit",
      spec: { p2p: { ratelimit: "512X" } },
      message: /\/spec\/p2p\/ratelimit must match pattern/,
    },
    {
      name: "a cache size with a rate suffix",
      spec: { p2p: { cacheMaxSize: "1G/s" } },
      message: /cacheMaxSize must match pattern/,
    },
    {
      name: "a duration in words",
      spec: { p2p: { cacheTTL: "one day" } },
      message: /cacheTTL must match pattern/,
    },
    {
      name: "a duration without a unit",
      spec: { p2p: { cacheTTL: "24" } },
      message: /cacheTTL must match pattern/,
    },
    { name: "port 0", spec: { p2p: { port: 0 } }, message: /port must be >= 1/ },
    { name: "port above 65535", spec: { p2p: { port: 65536 } }, message: /port must be <= 65535/ },
    { name: "a port as a string", spec: { p2p: { port: "65001" } }, message: /port must be integer/ },
    {
      name: "an unknown mode",
      spec: { mode: "proxy" },
      message: /mode must be equal to one of the allowed values/,
    },
    {
      name: "an unknown download pattern",
      spec: { p2p: { downloadPattern: "bt" } },
      message: /downloadPattern must be equal to one of/,
    },
    {
      name: "an instance id without cri-",
      spec: { acrInstances: ["abcdef12345678"] },
      message: /acrInstances\/0 must match pattern/,
    },
    {
      name: "an instance id too short",
      spec: { acrInstances: ["cri-abc"] },
      message: /acrInstances\/0 must match pattern/,
    },
    { name: "a region in capitals", spec: { region: "CN-Hangzhou" }, message: /region must match pattern/ },
    {
      name: "a registry without host",
      spec: { registries: [{ anonymous: true }] },
      message: /must have required property 'host'/,
    },
    {
      name: "an origin with a path",
      spec: { registries: [{ host: "r.io", origin: "https://r.io/v2/x" }] },
      message: /origin must match pattern/,
    },
    { name: "zero tracker replicas", spec: { tracker: { replicas: 0 } }, message: /replicas must be >= 1/ },
    {
      name: "a relative cache path",
      spec: { p2p: { cacheHostPath: "cache" } },
      message: /cacheHostPath must match pattern/,
    },
    {
      name: "a misspelt field",
      spec: { p2p: { cacheTtl: "24h" } },
      message: /\/spec\/p2p must NOT have additional properties/,
    },
    {
      name: "a resource quantity in words",
      spec: { agent: { resources: { limits: { memory: "lots" } } } },
      message: /memory must match pattern/,
    },
  ];
  it.each(bad)("rejects $name with a message naming the field", ({ spec, message }) => {
    expect(problems(config(spec))).toMatch(message);
  });

  it("is itself a valid CustomResourceDefinition", () => {
    expect(k8sSchemaProblems(crd)).toEqual([]);
  });
});
