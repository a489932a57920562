/**
 * The Container Registry 2018-12-01 RPC API as the tests need it, without HTTP: takes a request's
 * method and parameters, checks them the way the service does (common parameters, timestamp within
 * 15 minutes, known AccessKey, HMAC-SHA1 signature, nonce not seen before, STS token of an STS key,
 * RAM permission for `cr:<Action>`) and answers `ListInstanceEndpoint` / `GetInstanceVpcEndpoint`
 * with bodies shaped like the API reference, or the documented error body
 * (`RequestId`, `HostId`, `Code`, `Message`, `Recommend`) with its HTTP status.
 */
import { randomUUID } from "node:crypto";
import { rpcSignature, signatureMatches, stringToSign } from "./rpc-signature";

export const CR_VERSION = "2018-12-01";
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const REQUIRED = [
  "Action",
  "Version",
  "Format",
  "AccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "SignatureNonce",
  "Timestamp",
];

export interface FakeDomain {
  domain: string;
  type?: "SYSTEM" | "USER";
}

export interface FakeInstance {
  id: string;
  region: string;
  internet: FakeDomain[];
  vpc: FakeDomain[];
  internetEnabled?: boolean;
  vpcEnabled?: boolean;
}

export interface FakeAccessKey {
  id: string;
  secret: string;
  /** RAM actions the key's user or role is allowed, e.g. "cr:ListInstanceEndpoint". */
  actions: ReadonlySet<string>;
  /** STS keys: the token that must accompany them and when they stop working. */
  securityToken?: string;
  expiresAt?: number;
}

export interface RpcCall {
  method: string;
  params: Record<string, string>;
}

export interface RpcAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface RecordedCall extends RpcCall {
  status: number;
  code: string;
}

/** How an unknown instance is reported: in a 200 body with IsSuccess=false, or as an HTTP error. */
export type UnknownInstanceStyle = "body" | "status";

export class FakeCrService {
  readonly calls: RecordedCall[] = [];
  readonly #keys = new Map<string, FakeAccessKey>();
  readonly #instances = new Map<string, FakeInstance>();
  readonly #nonces = new Map<string, number>();
  #throttleNext = 0;
  #unavailableNext = 0;
  unknownInstanceStyle: UnknownInstanceStyle = "body";

  constructor(
    readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  addAccessKey(key: FakeAccessKey): void {
    this.#keys.set(key.id, key);
  }

  removeAccessKey(id: string): void {
    this.#keys.delete(id);
  }

  addInstance(instance: FakeInstance): void {
    this.#instances.set(instance.id, instance);
  }

  /** The next `count` authenticated calls are refused with Throttling.User. */
  throttle(count: number): void {
    this.#throttleNext = count;
  }

  /** The next `count` calls are answered 503 ServiceUnavailable, before any check. */
  unavailable(count: number): void {
    this.#unavailableNext = count;
  }

  get hostId(): string {
    return `cr.${this.region}.aliyuncs.com`;
  }

  handle(call: RpcCall): RpcAnswer {
    const requestId = randomUUID().toUpperCase();
    const answer = this.#answer(call, requestId);
    const code = typeof answer.body.Code === "string" ? answer.body.Code : "";
    this.calls.push({ ...call, status: answer.status, code });
    return answer;
  }

  #answer({ method, params }: RpcCall, requestId: string): RpcAnswer {
    if (this.#unavailableNext > 0) {
      this.#unavailableNext -= 1;
      return this.#error(
        requestId,
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
      );
    }
    const refusal = this.#authenticate(method, params);
    if (refusal) return this.#error(requestId, ...refusal);
    if (params.Version !== CR_VERSION)
      return this.#error(requestId, 400, "InvalidVersion", "Specified parameter Version is not valid.");
    if (params.Action !== "ListInstanceEndpoint" && params.Action !== "GetInstanceVpcEndpoint")
      return this.#error(requestId, 404, "InvalidAction.NotFound", "Specified api is not found.");
    if (this.#throttleNext > 0) {
      this.#throttleNext -= 1;
      return this.#error(requestId, 400, "Throttling.User", "Request was denied due to user flow control.");
    }
    if (!this.#keys.get(params.AccessKeyId)!.actions.has(`cr:${params.Action}`))
      return this.#error(
        requestId,
        403,
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
      );
    return this.#operation(params, requestId);
  }

  /** The checks every RPC request goes through before the operation; undefined when it passes. */
  #authenticate(method: string, p: Record<string, string>): [number, string, string] | undefined {
    for (const name of REQUIRED)
      if (!p[name])
        return [
          400,
          "MissingParameter",
          `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
        ];
    if (p.SignatureMethod !== "HMAC-SHA1" || p.SignatureVersion !== "1.0")
      return [400, "InvalidSignatureMethod", "Specified signature method or version is not supported."];
    if (!TIMESTAMP.test(p.Timestamp) || Number.isNaN(Date.parse(p.Timestamp)))
      return [400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."];
    if (Math.abs(this.now() - Date.parse(p.Timestamp)) > MAX_CLOCK_SKEW_MS)
      return [400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."];
    const key = this.#keys.get(p.AccessKeyId);
    if (!key) return [404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."];
    if (!signatureMatches(p.Signature, rpcSignature(method, p, key.secret)))
      return [
        400,
        "SignatureDoesNotMatch",
        `Specified signature does not match our calculation. server string to sign is:${stringToSign(method, p)}`,
      ];
    if (this.#nonceSeen(p.AccessKeyId, p.SignatureNonce))
      return [400, "SignatureNonceUsed", "Specified signature nonce was used already."];
    if (key.securityToken !== undefined) {
      if (p.SecurityToken !== key.securityToken)
        return [
          400,
          "InvalidSecurityToken.MismatchWithAccessKey",
          "Specified SecurityToken mismatch with the AccessKey.",
        ];
      if (key.expiresAt !== undefined && this.now() >= key.expiresAt)
        return [400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."];
    }
    return undefined;
  }

  /** Remembers nonces for the clock-skew window, as the service does to refuse replays. */
  #nonceSeen(accessKeyId: string, nonce: string): boolean {
    const now = this.now();
    for (const [seen, at] of this.#nonces) if (now - at > 2 * MAX_CLOCK_SKEW_MS) this.#nonces.delete(seen);
    const key = `${accessKeyId}\n${nonce}`;
    if (this.#nonces.has(key)) return true;
    this.#nonces.set(key, now);
    return false;
  }

  #operation(p: Record<string, string>, requestId: string): RpcAnswer {
    if (!p.InstanceId)
      return this.#error(
        requestId,
        400,
        "MissingParameter",
        'The input parameter "InstanceId" that is mandatory for processing this request is not supplied.',
      );
    if (p.ModuleName && p.ModuleName !== "Registry" && p.ModuleName !== "Chart")
      return this.#error(requestId, 400, "PARAM_INVALID", "The specified ModuleName is invalid.");
    const instance = this.#instances.get(p.InstanceId);
    if (!instance || instance.region !== this.region) {
      if (this.unknownInstanceStyle === "status")
        return this.#error(requestId, 404, "INSTANCE_NOT_EXIST", "instance not exist.");
      return { status: 200, body: { Code: "INSTANCE_NOT_EXIST", IsSuccess: false, RequestId: requestId } };
    }
    const body =
      p.Action === "ListInstanceEndpoint" ? listInstanceEndpoint(instance) : getInstanceVpcEndpoint(instance);
    return { status: 200, body: { ...body, Code: "success", IsSuccess: true, RequestId: requestId } };
  }

  #error(requestId: string, status: number, code: string, message: string): RpcAnswer {
    return {
      status,
      body: {
        RequestId: requestId,
        HostId: this.hostId,
        Code: code,
        Message: message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${code}&product=cr&requestId=${requestId}`,
      },
    };
  }
}

function listInstanceEndpoint(instance: FakeInstance): Record<string, unknown> {
  const endpoint = (type: "internet" | "vpc", domains: FakeDomain[], enabled: boolean) => ({
    EndpointType: type,
    Enable: enabled,
    Status: enabled ? "RUNNING" : "STOPPED",
    AclEnable: type === "internet",
    AclEntries: type === "internet" ? [{ Entry: "0.0.0.0/0" }] : [],
    LinkedVpcs: type === "vpc" ? [{ VpcId: "vpc-bp1fake0000000000001" }] : [],
    Domains: domains.map(d => ({ Domain: d.domain, Type: d.type ?? "SYSTEM" })),
  });
  return {
    Endpoints: [
      endpoint("internet", instance.internet, instance.internetEnabled ?? true),
      endpoint("vpc", instance.vpc, instance.vpcEnabled ?? true),
    ],
  };
}

function getInstanceVpcEndpoint(instance: FakeInstance): Record<string, unknown> {
  return {
    Enable: instance.vpcEnabled ?? true,
    ModuleName: "Registry",
    Domains: instance.vpc.map(d => d.domain),
    LinkedVpcs: [
      {
        VpcId: "vpc-bp1fake0000000000001",
        VswitchId: "vsw-bp1fake0000000000001",
        Ip: "192.168.10.11",
        Status: "RUNNING",
        DefaultAccess: false,
      },
    ],
  };
}
