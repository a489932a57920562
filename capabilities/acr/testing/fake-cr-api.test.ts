/**
 * The fake Container Registry API is only worth something if it refuses what the service refuses:
 * these requests are signed by hand (testing/rpc-signature.ts), then broken one way at a time.
 */
import { randomUUID } from "node:crypto";
import { FakeCrApi } from "./fake-cr-api";
import { percentEncode, rpcSignature } from "./rpc-signature";

const KEY = { id: "LTAI5tFakeKeyId0001", secret: "fake-secret-0001" };
const BOTH = new Set(["cr:ListInstanceEndpoint", "cr:GetInstanceVpcEndpoint"]);
const INSTANCE = "cri-abcdefgh12345678";
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
type Body = Record<string, any>;

let api: FakeCrApi;
beforeEach(async () => {
  api = new FakeCrApi("cn-hangzhou");
  api.service.addAccessKey({ id: KEY.id, secret: KEY.secret, actions: BOTH });
  api.service.addInstance({
    id: INSTANCE,
    region: "cn-hangzhou",
    internet: [{ domain: "shop-registry.cn-hangzhou.cr.aliyuncs.com" }],
    vpc: [{ domain: "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com" }],
  });
  await api.start();
});
afterEach(() => api.stop());

function params(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Action: "ListInstanceEndpoint",
    Version: "2018-12-01",
    Format: "JSON",
    AccessKeyId: KEY.id,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    InstanceId: INSTANCE,
    ModuleName: "Registry",
    ...extra,
  };
}

function signed(p: Record<string, string>, secret = KEY.secret, method = "POST"): Record<string, string> {
  return { ...p, Signature: rpcSignature(method, p, secret) };
}

async function send(p: Record<string, string>, method = "POST"): Promise<{ status: number; body: Body }> {
  const query = Object.entries(p)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join("&");
  const res = await fetch(`http://${api.endpoint}/?${query}`, { method });
  return { status: res.status, body: (await res.json()) as Body };
}

describe("fake Container Registry API: what it refuses", () => {
  it("answers a correctly signed request as the API reference shapes it", async () => {
    const { status, body } = await send(signed(params()));
    expect(status).toBe(200);
    expect(body).toMatchObject({ Code: "success", IsSuccess: true, RequestId: expect.any(String) });
    expect(body.Endpoints.map((e: Body) => e.EndpointType)).toEqual(["internet", "vpc"]);
    expect(body.Endpoints[0].Domains).toEqual([
      { Domain: "shop-registry.cn-hangzhou.cr.aliyuncs.com", Type: "SYSTEM" },
    ]);
  });

  it("accepts GET too (the signature covers the method)", async () => {
    expect((await send(signed(params(), KEY.secret, "GET"), "GET")).status).toBe(200);
  });

  const refusals: {
    name: string;
    request: () => Record<string, string>;
    status: number;
    code: string;
  }[] = [
    {
      name: "signed with the wrong secret",
      request: () => signed(params(), "not-the-secret"),
      status: 400,
      code: "SignatureDoesNotMatch",
    },
    {
      name: "a parameter changed after signing",
      request: () => ({ ...signed(params()), InstanceId: "cri-zzzzzzzz12345678" }),
      status: 400,
      code: "SignatureDoesNotMatch",
    },
    {
      name: "a parameter added after signing",
      request: () => ({ ...signed(params()), Extra: "1" }),
      status: 400,
      code: "SignatureDoesNotMatch",
    },
    {
      name: "signed for GET, sent as POST",
      request: () => signed(params(), KEY.secret, "GET"),
      status: 400,
      code: "SignatureDoesNotMatch",
    },
    { name: "no signature", request: () => params(), status: 400, code: "MissingParameter" },
    {
      name: "a timestamp 16 minutes old",
      request: () =>
        signed(
          params({ Timestamp: new Date(Date.now() - 16 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z") }),
        ),
      status: 400,
      code: "InvalidTimeStamp.Expired",
    },
    {
      name: "a timestamp with milliseconds",
      request: () => signed(params({ Timestamp: new Date().toISOString() })),
      status: 400,
      code: "InvalidTimeStamp.Format",
    },
    {
      name: "an AccessKey the service does not know",
      request: () => signed(params({ AccessKeyId: "LTAI5tUnknown" })),
      status: 404,
      code: "InvalidAccessKeyId.NotFound",
    },
    {
      name: "another API version",
      request: () => signed(params({ Version: "2016-06-07" })),
      status: 400,
      code: "InvalidVersion",
    },
  ];
  it.each(refusals)("$name -> $status $code", async ({ request, status, code }) => {
    const res = await send(request());
    expect(res.status).toBe(status);
    expect(res.body.Code).toBe(code);
    if (status >= 400)
      expect(res.body).toEqual({
        RequestId: expect.stringMatching(/^[0-9A-F-]{36}$/),
        HostId: "cr.cn-hangzhou.aliyuncs.com",
        Code: code,
        Message: expect.any(String),
        Recommend: expect.stringContaining(`q=${code}`),
      });
  });

  it("refuses a replayed request (same nonce), even though its signature is right", async () => {
    const request = signed(params());
    expect((await send(request)).status).toBe(200);
    const replay = await send(request);
    expect([replay.status, replay.body.Code]).toEqual([400, "SignatureNonceUsed"]);
  });

  it("refuses an action outside the key's RAM policy with Forbidden.RAM (403)", async () => {
    api.service.addAccessKey({
      id: KEY.id,
      secret: KEY.secret,
      actions: new Set(["cr:ListInstanceEndpoint"]),
    });
    const res = await send(signed(params({ Action: "GetInstanceVpcEndpoint" })));
    expect([res.status, res.body.Code]).toEqual([403, "Forbidden.RAM"]);
  });

  it("wants the STS token of an STS key, and refuses it once expired", async () => {
    const sts = { id: "STS.NUfake0001", secret: "sts-secret", token: "CAIS-token-1" };
    api.service.addAccessKey({
      id: sts.id,
      secret: sts.secret,
      actions: BOTH,
      securityToken: sts.token,
      expiresAt: Date.now() + 60_000,
    });
    const base = { AccessKeyId: sts.id };
    const without = await send(signed(params(base), sts.secret));
    expect(without.body.Code).toBe("InvalidSecurityToken.MismatchWithAccessKey");
    const wrong = await send(signed(params({ ...base, SecurityToken: "CAIS-other" }), sts.secret));
    expect(wrong.body.Code).toBe("InvalidSecurityToken.MismatchWithAccessKey");
    const right = await send(signed(params({ ...base, SecurityToken: sts.token }), sts.secret));
    expect(right.status).toBe(200);

    api.service.addAccessKey({
      id: sts.id,
      secret: sts.secret,
      actions: BOTH,
      securityToken: sts.token,
      expiresAt: Date.now() - 1,
    });
    const expired = await send(signed(params({ ...base, SecurityToken: sts.token }), sts.secret));
    expect([expired.status, expired.body.Code]).toEqual([400, "InvalidSecurityToken.Expired"]);
  });

  it("reports an unknown instance in the body (IsSuccess false) or as an HTTP error, as configured", async () => {
    const body = await send(signed(params({ InstanceId: "cri-unknown000000000" })));
    expect(body.status).toBe(200);
    expect(body.body).toMatchObject({ Code: "INSTANCE_NOT_EXIST", IsSuccess: false });
    api.service.unknownInstanceStyle = "status";
    const status = await send(signed(params({ InstanceId: "cri-unknown000000000" })));
    expect([status.status, status.body.Code]).toEqual([404, "INSTANCE_NOT_EXIST"]);
  });
});
