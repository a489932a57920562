/**
 * Pure: whatever a resolution throws -> an `AcrError` a person can act on. Cloud errors keep the
 * cloud's code, message and RequestId (the support ticket needs them); network failures become
 * `NetworkError`; our own checks throw `AcrFailure` carrying their `AcrError`. `retryable` says
 * whether trying again soon may help without anyone changing anything.
 */
import type { AcrError } from "./acr-resolver";

/** A failure this module detected itself (bad Secret, malformed answer, instance without domains). */
export class AcrFailure extends Error {
  constructor(readonly acr: AcrError) {
    super(`${acr.code}: ${acr.message}`);
    this.name = "AcrFailure";
  }
}

export function failure(code: string, message: string, retryable: boolean, requestId?: string): AcrFailure {
  return new AcrFailure({ code, message, retryable, ...(requestId ? { requestId } : {}) });
}

const RETRYABLE_CODES = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableTemporary",
  "InternalError",
  "InternalFailure",
  "UnknownError",
  "SignatureNonceUsed",
  "InvalidSecurityToken.Expired",
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "EPROTO",
  "UND_ERR_SOCKET",
]);

export function isRetryableCode(code: string, httpStatus?: number): boolean {
  if (code.startsWith("Throttling")) return true;
  if (RETRYABLE_CODES.has(code)) return true;
  return httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429);
}

/** Errors that concern one instance; any other error would fail every instance the same way. */
export function concernsOneInstance(error: AcrError): boolean {
  return (
    error.code === "INSTANCE_NOT_EXIST" ||
    error.code === "NoVpcEndpoint" ||
    error.code === "NoInternetEndpoint" ||
    error.code === "MalformedResponse" ||
    error.code === "Forbidden.RAM" ||
    error.code === "NoPermission"
  );
}

interface CloudErrorShape {
  code?: unknown;
  statusCode?: unknown;
  data?: { Code?: unknown; Message?: unknown; RequestId?: unknown; statusCode?: unknown };
}

export function acrErrorOf(err: unknown): AcrError {
  if (err instanceof AcrFailure) return err.acr;
  const shape = (typeof err === "object" && err !== null ? err : {}) as CloudErrorShape & Error;
  const data = shape.data;
  if (data && typeof data === "object" && typeof data.Code === "string") {
    // an answer from the cloud: @alicloud/openapi-client's ResponseError keeps the body in `data`
    const status = typeof data.statusCode === "number" ? data.statusCode : undefined;
    return {
      code: data.Code,
      message: typeof data.Message === "string" ? data.Message : String(shape.message ?? ""),
      ...(typeof data.RequestId === "string" ? { requestId: data.RequestId } : {}),
      retryable: isRetryableCode(data.Code, status),
    };
  }
  if (isNetworkError(shape))
    return {
      code: "NetworkError",
      message: withoutQuery(oneLine(shape.message || String(shape.code))),
      retryable: true,
    };
  return { code: "UnexpectedError", message: oneLine(String(shape.message ?? err)), retryable: true };
}

function isNetworkError(err: CloudErrorShape & Error): boolean {
  if (typeof err.code === "string" && NETWORK_CODES.has(err.code)) return true;
  return (
    err.name === "RequestTimeoutError" || /socket hang up|ReadTimeout|ConnectTimeout/.test(err.message ?? "")
  );
}

/**
 * The HTTP client appends "<METHOD> <url> failed." to network errors; the query holds the AccessKey
 * id, nonce and signature, which do not belong in a status condition: keep the method and the host.
 */
function withoutQuery(message: string): string {
  return message.replace(/\s*(GET|POST) (https?:\/\/[^/?\s]+)\/?\S* failed\.$/, " ($1 $2)");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** What a person can do about an error, appended to its message. */
export function hintFor(code: string, credentialsRef: string): string | undefined {
  switch (code) {
    case "InvalidAccessKeyId.NotFound":
    case "InvalidAccessKeyId.Inactive":
    case "SignatureDoesNotMatch":
      return `check access-key-id and access-key-secret in ${credentialsRef}`;
    case "Forbidden.RAM":
    case "NoPermission":
      return "grant cr:ListInstanceEndpoint and cr:GetInstanceVpcEndpoint to the RAM user or role (manifests/acr/ram-policy.json)";
    case "INSTANCE_NOT_EXIST":
      return "check the instance id and that spec.region is the instance's region";
    case "InvalidTimeStamp.Expired":
      return "the clock of the node running the operator is off by more than 15 minutes";
    default:
      return code.startsWith("Throttling")
        ? "the cloud is rate limiting this account; retried with backoff"
        : undefined;
  }
}
