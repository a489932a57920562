import type { AcrResolution } from "../acr/acr-resolver";
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../crd/p2p-acceleration-config";
import { registriesOutcome, resolveRegistries } from "./registries";

const ID = "cri-shop0000aaaa1111";
const OTHER = "cri-data0000bbbb2222";
const acr = (host: string, instanceId = ID): ResolvedRegistry => ({
  host,
  origin: "https://shop-vpc.cr.example",
  source: "acr",
  instanceId,
});
const STATIC: ResolvedRegistry = {
  host: "registry.example.com",
  origin: "https://registry.example.com",
  source: "static",
};
const spec: P2PAccelerationConfigSpec = {
  registries: [{ host: "registry.example.com" }],
  region: "cn-hangzhou",
  acrInstances: [ID, OTHER],
};
const throttled = {
  code: "Throttling.User",
  message: "Request was denied",
  requestId: "R-1",
  retryable: true,
};

const rows: {
  name: string;
  spec?: P2PAccelerationConfigSpec;
  resolution: AcrResolution | undefined;
  previous?: ResolvedRegistry[];
  hosts: string[];
  reason: string;
  retry: boolean;
  message?: RegExp;
}[] = [
  {
    name: "no ACR instances: the static registries, resolved",
    spec: { registries: [{ host: "registry.example.com" }] },
    resolution: undefined,
    hosts: ["registry.example.com"],
    reason: "Resolved",
    retry: false,
  },
  {
    name: "no resolver: static only, says what to do instead",
    resolution: undefined,
    previous: [acr("shop.cr.example")],
    hosts: ["registry.example.com"],
    reason: "AcrResolverMissing",
    retry: false,
    message: /spec.registries instead/,
  },
  {
    name: "resolved: static first, then the ACR hosts; a host listed twice keeps the static entry",
    resolution: { registries: [acr("shop.cr.example"), acr("registry.example.com")] },
    hosts: ["registry.example.com", "shop.cr.example"],
    reason: "Resolved",
    retry: false,
  },
  {
    name: "a success replaces what the status listed (a domain the instance dropped goes)",
    resolution: { registries: [acr("shop.cr.example")] },
    previous: [acr("old.cr.example")],
    hosts: ["registry.example.com", "shop.cr.example"],
    reason: "Resolved",
    retry: false,
  },
  {
    name: "failure: the resolver's last good registries are used, with code, message and request id",
    resolution: { registries: [acr("shop.cr.example")], error: throttled },
    hosts: ["registry.example.com", "shop.cr.example"],
    reason: "AcrResolutionFailed",
    retry: true,
    message:
      /^ACR resolution failed: Throttling.User: Request was denied \(RequestId R-1\)\. Using the last resolved domains: shop.cr.example\. Retrying with backoff\.$/,
  },
  {
    name: "failure after a restart (the resolver has nothing): the status's registries of the configured instances",
    resolution: { registries: [], error: throttled },
    previous: [
      STATIC,
      acr("shop.cr.example"),
      acr("data.cr.example", OTHER),
      acr("gone.cr.example", "cri-gone000011112222"),
    ],
    hosts: ["registry.example.com", "shop.cr.example", "data.cr.example"],
    reason: "AcrResolutionFailed",
    retry: true,
  },
  {
    name: "failure for one instance: the resolver's for the other, the status's for the failed one",
    resolution: {
      registries: [acr("data-new.cr.example", OTHER)],
      error: { code: "INSTANCE_NOT_EXIST", message: "no such instance", retryable: false },
    },
    previous: [acr("shop.cr.example"), acr("data-old.cr.example", OTHER)],
    hosts: ["registry.example.com", "data-new.cr.example", "shop.cr.example"],
    reason: "AcrResolutionFailed",
    retry: false,
    message:
      /INSTANCE_NOT_EXIST: no such instance\..*Tried again when the config or its credentials Secret changes/,
  },
  {
    name: "a resolver message that already names its code and request id is not repeated",
    resolution: {
      registries: [],
      error: {
        code: "SignatureDoesNotMatch",
        message: `${ID}: SignatureDoesNotMatch: Specified signature is not matched (RequestId R-2); check access-key-id`,
        requestId: "R-2",
        retryable: false,
      },
    },
    hosts: ["registry.example.com"],
    reason: "AcrResolutionFailed",
    retry: false,
    message:
      /^ACR resolution failed: cri-shop0000aaaa1111: SignatureDoesNotMatch: Specified signature is not matched \(RequestId R-2\); check access-key-id\. Tried/,
  },
];

describe("registriesOutcome", () => {
  it.each(rows)("$name", ({ spec: s, resolution, previous, hosts, reason, retry, message }) => {
    const outcome = registriesOutcome(s ?? spec, resolution, previous ?? []);
    expect(outcome.registries.map(r => r.host)).toEqual(hosts);
    expect(outcome).toMatchObject({ reason, retry, resolved: reason === "Resolved" });
    if (message) expect(outcome.message).toMatch(message);
  });
});

describe("resolveRegistries", () => {
  it("a resolver that throws is a retryable failure, and the status's registries stay", async () => {
    const outcome = await resolveRegistries(spec, { resolve: () => Promise.reject(new Error("boom")) }, [
      acr("shop.cr.example"),
    ]);
    expect(outcome).toMatchObject({ reason: "AcrResolutionFailed", retry: true });
    expect(outcome.message).toMatch(/ResolverFailed: boom/);
    expect(outcome.registries.map(r => r.host)).toEqual(["registry.example.com", "shop.cr.example"]);
  });
});
