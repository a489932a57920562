import { acrErrorOf, concernsOneInstance, failure, hintFor } from "./acr-errors";

/** What `@alicloud/openapi-client` throws for a 4xx/5xx answer: its ResponseError keeps the body in `data`. */
function cloudError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(`${code}: code: ${status}, ${message} request id: R-${status}`), {
    code,
    data: {
      Code: code,
      Message: message,
      RequestId: `R-${status}`,
      HostId: "cr.cn-hangzhou.aliyuncs.com",
      statusCode: status,
    },
  });
}

describe("acrErrorOf", () => {
  const cloud = [
    { name: "bad key", status: 404, code: "InvalidAccessKeyId.NotFound", retryable: false },
    { name: "bad secret", status: 400, code: "SignatureDoesNotMatch", retryable: false },
    { name: "missing RAM permission", status: 403, code: "Forbidden.RAM", retryable: false },
    { name: "no permission", status: 403, code: "NoPermission", retryable: false },
    { name: "unknown instance", status: 404, code: "INSTANCE_NOT_EXIST", retryable: false },
    { name: "throttling", status: 400, code: "Throttling.User", retryable: true },
    { name: "throttling, other flavour", status: 429, code: "Throttling", retryable: true },
    { name: "server side", status: 503, code: "ServiceUnavailable", retryable: true },
    { name: "an unknown code with a 500", status: 500, code: "SomethingNew", retryable: true },
    {
      name: "an expired STS token (the next credential fetch renews it)",
      status: 400,
      code: "InvalidSecurityToken.Expired",
      retryable: true,
    },
    {
      name: "a clock off by more than 15 minutes",
      status: 400,
      code: "InvalidTimeStamp.Expired",
      retryable: false,
    },
  ];
  it.each(cloud)("keeps the cloud's code, message and RequestId: $name", ({ status, code, retryable }) => {
    expect(acrErrorOf(cloudError(status, code, "what the cloud said"))).toEqual({
      code,
      message: "what the cloud said",
      requestId: `R-${status}`,
      retryable,
    });
  });

  const network = [
    {
      name: "refused",
      err: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    },
    { name: "reset", err: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) },
    {
      name: "no DNS",
      err: Object.assign(new Error("getaddrinfo ENOTFOUND cr.x.aliyuncs.com"), { code: "ENOTFOUND" }),
    },
    {
      name: "httpx connect timeout",
      err: Object.assign(new Error("ConnectTimeout: Connect x failed."), { name: "RequestTimeoutError" }),
    },
    {
      name: "httpx read timeout",
      err: new Error("RequestTimeoutError: ReadTimeout(10000). POST http://x/ failed."),
    },
  ];
  it.each(network)("calls $name a NetworkError, retryable", ({ err }) => {
    expect(acrErrorOf(err)).toMatchObject({ code: "NetworkError", retryable: true });
  });

  it("keeps the AccessKey id, nonce and signature of the request URL out of the message", () => {
    const err = Object.assign(
      new Error(
        "connect ECONNREFUSED 10.0.0.1:443POST https://cr.cn-hangzhou.aliyuncs.com/?Action=ListInstanceEndpoint" +
          "&AccessKeyId=LTAI5tSecretish&SignatureNonce=abc&Signature=xyz%3D failed.",
      ),
      { code: "ECONNREFUSED" },
    );
    expect(acrErrorOf(err).message).toBe(
      "connect ECONNREFUSED 10.0.0.1:443 (POST https://cr.cn-hangzhou.aliyuncs.com)",
    );
  });

  it("passes our own failures through unchanged", () => {
    expect(acrErrorOf(failure("CredentialsMissing", "no Secret", false))).toEqual({
      code: "CredentialsMissing",
      message: "no Secret",
      retryable: false,
    });
  });

  it("calls anything else UnexpectedError and keeps its message on one line", () => {
    expect(acrErrorOf(new TypeError("x is\nnot a function"))).toEqual({
      code: "UnexpectedError",
      message: "x is not a function",
      retryable: true,
    });
  });
});

it("tells instance errors from errors that would fail every instance", () => {
  const of = (code: string) => concernsOneInstance({ code, message: "", retryable: false });
  expect(["INSTANCE_NOT_EXIST", "Forbidden.RAM", "NoVpcEndpoint", "MalformedResponse"].map(of)).toEqual([
    true,
    true,
    true,
    true,
  ]);
  expect(
    ["InvalidAccessKeyId.NotFound", "Throttling.User", "NetworkError", "CredentialsMissing"].map(of),
  ).toEqual([false, false, false, false]);
});

it("hints at what to do", () => {
  expect(hintFor("SignatureDoesNotMatch", "Secret kube-system/s")).toMatch(/Secret kube-system\/s/);
  expect(hintFor("Forbidden.RAM", "")).toMatch(/cr:ListInstanceEndpoint and cr:GetInstanceVpcEndpoint/);
  expect(hintFor("Throttling.User", "")).toMatch(/backoff/);
  expect(hintFor("Whatever", "")).toBeUndefined();
});
