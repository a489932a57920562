import { AcrFailure } from "./acr-errors";
import { decodeGetInstanceVpcEndpoint, decodeListInstanceEndpoint } from "./cr-responses";

// Shaped like the API reference's example answers.
const LISTED = {
  Code: "success",
  IsSuccess: true,
  RequestId: "1B21A877-66A2-4095-90EB-20A7781A4A67",
  Endpoints: [
    {
      EndpointType: "internet",
      Enable: true,
      Status: "RUNNING",
      AclEnable: true,
      AclEntries: [{ Entry: "10.0.0.0/8" }],
      LinkedVpcs: [],
      Domains: [
        { Domain: "shop-registry.cn-hangzhou.cr.aliyuncs.com", Type: "SYSTEM" },
        { Domain: "registry.shop.example", Type: "USER" },
      ],
    },
    {
      EndpointType: "vpc",
      Enable: true,
      Status: "RUNNING",
      LinkedVpcs: [{ VpcId: "vpc-uf6aamu2nomfr1thd****" }],
      Domains: [{ Domain: "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com", Type: "SYSTEM" }],
    },
  ],
};

const VPC = {
  Code: "success",
  IsSuccess: true,
  RequestId: "BAE9349D-A587-4F9A-B574-9DA0EF2638D1",
  Enable: true,
  ModuleName: "Registry",
  Domains: ["shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com"],
  LinkedVpcs: [{ VpcId: "vpc-uf6aamu2nomfr1thd****", Ip: "192.168.10.11", Status: "RUNNING" }],
};

function thrown(fn: () => unknown): AcrFailure {
  try {
    fn();
  } catch (err) {
    if (err instanceof AcrFailure) return err;
    throw err;
  }
  throw new Error("did not throw");
}

describe("decodeListInstanceEndpoint", () => {
  it("lists every domain with its endpoint type and whether it is the instance's own", () => {
    expect(decodeListInstanceEndpoint(LISTED)).toEqual([
      { endpointType: "internet", domain: "shop-registry.cn-hangzhou.cr.aliyuncs.com", system: true },
      { endpointType: "internet", domain: "registry.shop.example", system: false },
      { endpointType: "vpc", domain: "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com", system: true },
    ]);
  });

  it("ignores endpoint types other than internet and vpc; accepts no endpoints", () => {
    expect(
      decodeListInstanceEndpoint({ ...LISTED, Endpoints: [{ EndpointType: "classic", Domains: [] }] }),
    ).toEqual([]);
    expect(decodeListInstanceEndpoint({ Code: "success", IsSuccess: true, RequestId: "r" })).toEqual([]);
  });

  const malformed = [
    { name: "not an object", body: "<html>" },
    { name: "Endpoints not a list", body: { ...LISTED, Endpoints: {} } },
    { name: "an endpoint not an object", body: { ...LISTED, Endpoints: [1] } },
    { name: "Domains not a list", body: { ...LISTED, Endpoints: [{ EndpointType: "vpc", Domains: "x" }] } },
    {
      name: "a domain without Domain",
      body: { ...LISTED, Endpoints: [{ EndpointType: "vpc", Domains: [{ Type: "SYSTEM" }] }] },
    },
  ];
  it.each(malformed)("refuses $name as MalformedResponse", ({ body }) => {
    expect(thrown(() => decodeListInstanceEndpoint(body)).acr.code).toBe("MalformedResponse");
  });

  it("turns IsSuccess false into the cloud's code and RequestId", () => {
    const failure = thrown(() =>
      decodeListInstanceEndpoint({ Code: "INSTANCE_NOT_EXIST", IsSuccess: false, RequestId: "R-1" }),
    );
    expect(failure.acr).toEqual({
      code: "INSTANCE_NOT_EXIST",
      message: "ListInstanceEndpoint answered INSTANCE_NOT_EXIST",
      requestId: "R-1",
      retryable: false,
    });
  });
});

describe("decodeGetInstanceVpcEndpoint", () => {
  it("returns the VPC domains", () => {
    expect(decodeGetInstanceVpcEndpoint(VPC)).toEqual(["shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com"]);
    expect(decodeGetInstanceVpcEndpoint({ ...VPC, Domains: undefined, Enable: false })).toEqual([]);
  });

  it("refuses Domains that are not strings", () => {
    expect(thrown(() => decodeGetInstanceVpcEndpoint({ ...VPC, Domains: [{ Domain: "x" }] })).acr.code).toBe(
      "MalformedResponse",
    );
  });
});
