/** Instances, keys, Secrets and the shipped RAM policy, shared by the ACR tests. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Secret } from "@kubernetes/client-node";
import type { FakeInstance } from "./fake-cr-service";

export const REGION = "cn-hangzhou";
export const SHOP: FakeInstance = {
  id: "cri-shop0000aaaa1111",
  region: REGION,
  internet: [{ domain: "shop-registry.cn-hangzhou.cr.aliyuncs.com" }],
  vpc: [{ domain: "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com" }],
};
export const DATA: FakeInstance = {
  id: "cri-data0000bbbb2222",
  region: REGION,
  internet: [
    { domain: "data-registry.cn-hangzhou.cr.aliyuncs.com" },
    { domain: "images.data.example", type: "USER" },
  ],
  vpc: [{ domain: "data-registry-vpc.cn-hangzhou.cr.aliyuncs.com" }],
};

export const KEY = { id: "LTAI5tFakeKeyId0001", secret: "fake-access-key-secret-0001" };

const REPO_ROOT = join(__dirname, "..", "..", "..");

/** The RAM actions of manifests/acr/ram-policy.json: what the shipped policy allows, nothing more. */
export function shippedPolicyActions(): Set<string> {
  const policy = JSON.parse(readFileSync(join(REPO_ROOT, "manifests/acr/ram-policy.json"), "utf8")) as {
    Statement: { Effect: string; Action: string[] | string; Resource: string | string[] }[];
  };
  const actions = new Set<string>();
  for (const statement of policy.Statement)
    if (statement.Effect === "Allow") for (const action of [statement.Action].flat()) actions.add(action);
  return actions;
}

export function manifestPath(relative: string): string {
  return join(REPO_ROOT, relative);
}

/** A Secret as the Kubernetes API returns it: values base64-encoded under `data`. */
export function accessKeySecret(
  values: Record<string, string>,
  namespace = "kube-system",
  name = "alibaba-addon-secret",
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { namespace, name },
    data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

export function keySecret(key: { id: string; secret: string }, namespace?: string, name?: string): V1Secret {
  return accessKeySecret({ "access-key-id": key.id, "access-key-secret": key.secret }, namespace, name);
}
