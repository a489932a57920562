import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { acrInputsOf, describeCredentials, inputsKey } from "./acr-inputs";

const ID = "cri-abcdefgh12345678";

describe("acrInputsOf", () => {
  it("needs nothing when no instance is configured", () => {
    expect(acrInputsOf({})).toEqual({ kind: "none" });
    expect(acrInputsOf({ acrInstances: [], region: "cn-hangzhou" })).toEqual({ kind: "none" });
  });

  const accepts: { name: string; spec: P2PAccelerationConfigSpec; inputs: object }[] = [
    {
      name: "the add-on's Secret by default",
      spec: { region: "cn-hangzhou", acrInstances: [ID] },
      inputs: {
        region: "cn-hangzhou",
        instanceIds: [ID],
        pullImageInternet: false,
        credentials: { kind: "secret", namespace: "kube-system", name: "alibaba-addon-secret" },
      },
    },
    {
      name: "a partial secretRef filled with the defaults",
      spec: { region: "cn-shanghai", acrInstances: [ID], credentials: { secretRef: { name: "acr" } } },
      inputs: { credentials: { kind: "secret", namespace: "kube-system", name: "acr" } },
    },
    {
      name: "a RAM role",
      spec: { region: "cn-hangzhou", acrInstances: [ID], credentials: { ramRole: "KubernetesWorkerRole-x" } },
      inputs: { credentials: { kind: "ramRole", roleName: "KubernetesWorkerRole-x" } },
    },
    {
      name: "duplicate ids once, in spec order; pullImageInternet",
      spec: {
        region: "ap-southeast-1",
        acrInstances: ["cri-bbbbbbbb", ID, "cri-bbbbbbbb"],
        pullImageInternet: true,
      },
      inputs: { instanceIds: ["cri-bbbbbbbb", ID], pullImageInternet: true },
    },
  ];
  it.each(accepts)("accepts $name", ({ spec, inputs }) => {
    const check = acrInputsOf(spec);
    expect(check.kind).toBe("ok");
    expect(check.kind === "ok" && check.inputs).toMatchObject(inputs);
  });

  const rejects: { name: string; spec: P2PAccelerationConfigSpec; message: RegExp }[] = [
    { name: "no region", spec: { acrInstances: [ID] }, message: /region is required/ },
    {
      name: "a region that is not an id",
      spec: { acrInstances: [ID], region: "cr.evil.com/x" },
      message: /region/,
    },
    {
      name: "an id that is not an instance id",
      spec: { acrInstances: ["registry.example.com"], region: "cn-hangzhou" },
      message: /acrInstances/,
    },
    {
      name: "both a Secret and a RAM role",
      spec: { acrInstances: [ID], region: "cn-hangzhou", credentials: { secretRef: {}, ramRole: "r" } },
      message: /either secretRef or ramRole/,
    },
    {
      name: "a RAM role name with a slash",
      spec: { acrInstances: [ID], region: "cn-hangzhou", credentials: { ramRole: "../x" } },
      message: /ramRole/,
    },
  ];
  it.each(rejects)("rejects $name with InvalidSpec, not retryable", ({ spec, message }) => {
    const check = acrInputsOf(spec);
    expect(check.kind).toBe("invalid");
    if (check.kind !== "invalid") return;
    expect(check.error).toMatchObject({ code: "InvalidSpec", retryable: false });
    expect(check.error.message).toMatch(message);
  });
});

describe("inputsKey", () => {
  const base: P2PAccelerationConfigSpec = { region: "cn-hangzhou", acrInstances: [ID] };
  const key = (spec: P2PAccelerationConfigSpec) => {
    const check = acrInputsOf(spec);
    if (check.kind !== "ok") throw new Error("invalid");
    return inputsKey(check.inputs);
  };

  it("changes with every input that changes the resolution", () => {
    const keys = [
      key(base),
      key({ ...base, region: "cn-shanghai" }),
      key({ ...base, acrInstances: [ID, "cri-bbbbbbbb"] }),
      key({ ...base, pullImageInternet: true }),
      key({ ...base, credentials: { secretRef: { name: "other" } } }),
      key({ ...base, credentials: { ramRole: "r" } }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("does not change with what does not matter to ACR", () => {
    expect(key({ ...base, mode: "mirror", p2p: { cacheTTL: "1h" } })).toBe(key(base));
    expect(key({ ...base, credentials: { secretRef: {} } })).toBe(key(base));
  });
});

it("describes credentials the way messages name them", () => {
  expect(describeCredentials({ kind: "secret", namespace: "kube-system", name: "s" })).toBe(
    "Secret kube-system/s",
  );
  expect(describeCredentials({ kind: "ramRole", roleName: "r" })).toBe("RAM role r");
});
