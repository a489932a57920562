import { AcrFailure } from "./acr-errors";
import type { ListedDomain } from "./cr-responses";
import { instanceRegistries } from "./instance-registries";

const ID = "cri-abcdefgh12345678";
const INTERNET = "shop-registry.cn-hangzhou.cr.aliyuncs.com";
const VPC = "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com";
const LISTED: ListedDomain[] = [
  { endpointType: "internet", domain: INTERNET, system: true },
  { endpointType: "vpc", domain: VPC, system: true },
];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AcrFailure) return err.acr.code;
    throw err;
  }
  return "no error";
}

describe("instanceRegistries", () => {
  it("makes every domain a host that fetches from the VPC domain", () => {
    expect(instanceRegistries(ID, LISTED, [VPC], false)).toEqual([
      { host: INTERNET, origin: `https://${VPC}`, source: "acr", instanceId: ID },
      { host: VPC, origin: `https://${VPC}`, source: "acr", instanceId: ID },
    ]);
  });

  it("fetches from the internet domain when pullImageInternet is set", () => {
    const registries = instanceRegistries(ID, LISTED, [VPC], true);
    expect(registries.map(r => r.origin)).toEqual([`https://${INTERNET}`, `https://${INTERNET}`]);
  });

  const rows: {
    name: string;
    listed: ListedDomain[];
    vpc: string[];
    internet: boolean;
    hosts: string[];
    origin: string;
  }[] = [
    {
      name: "custom (USER) domains are hosts too, the instance's own domain is the origin",
      listed: [
        { endpointType: "internet", domain: "registry.shop.example", system: false },
        ...LISTED,
        { endpointType: "vpc", domain: "vpc.registry.shop.example", system: false },
      ],
      vpc: [VPC],
      internet: false,
      hosts: ["registry.shop.example", INTERNET, VPC, "vpc.registry.shop.example"],
      origin: VPC,
    },
    {
      name: "a VPC domain only GetInstanceVpcEndpoint knows",
      listed: [LISTED[0]],
      vpc: [VPC],
      internet: false,
      hosts: [INTERNET, VPC],
      origin: VPC,
    },
    {
      name: "upper case and stray spaces from the API, each host once",
      listed: [{ endpointType: "internet", domain: ` ${INTERNET.toUpperCase()} `, system: true }, LISTED[1]],
      vpc: [VPC, VPC],
      internet: false,
      hosts: [INTERNET, VPC],
      origin: VPC,
    },
  ];
  it.each(rows)("$name", ({ listed, vpc, internet, hosts, origin }) => {
    const registries = instanceRegistries(ID, listed, vpc, internet);
    expect(registries.map(r => r.host)).toEqual(hosts);
    expect(new Set(registries.map(r => r.origin))).toEqual(new Set([`https://${origin}`]));
  });

  it("says what to do when the domain to fetch from is missing", () => {
    expect(code(() => instanceRegistries(ID, [LISTED[0]], [], false))).toBe("NoVpcEndpoint");
    expect(code(() => instanceRegistries(ID, [LISTED[1]], [VPC], true))).toBe("NoInternetEndpoint");
  });

  const hostile = [
    "evil.example/path",
    "evil.example:443",
    "https://evil.example",
    "a..b",
    "-a.example",
    "localhost",
    "x y.example",
  ];
  it.each(hostile)("refuses the domain %j as MalformedResponse", domain => {
    expect(
      code(() =>
        instanceRegistries(
          ID,
          [...LISTED, { endpointType: "internet", domain, system: false }],
          [VPC],
          false,
        ),
      ),
    ).toBe("MalformedResponse");
  });
});
