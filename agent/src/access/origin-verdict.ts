/**
 * Maps what the origin said about a request (or that it could not be asked) to the OCI error the
 * client gets. Pure: the one table for every authorization outcome.
 */
import { OciError } from "../../../protocol/oci-error";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";

export type Subject = "manifest" | "blob";

export function originErrorToOci(err: unknown, subject: Subject): OciError {
  if (err instanceof OciError) return err;
  if (err instanceof UpstreamUnreachableError)
    return new OciError("UNAVAILABLE", "origin registry unreachable");
  if (!(err instanceof UpstreamStatusError)) return new OciError("UNKNOWN", "internal error");
  switch (err.statusCode) {
    case 401:
      return new OciError("UNAUTHORIZED", "authentication required by the origin registry");
    case 403:
      return new OciError("DENIED", "the origin registry denied access");
    case 404:
      return subject === "blob"
        ? new OciError("BLOB_UNKNOWN", "blob unknown to the origin registry")
        : new OciError("MANIFEST_UNKNOWN", "manifest unknown to the origin registry");
    case 429:
      return new OciError("TOOMANYREQUESTS", "the origin registry is rate limiting");
    case 413:
      return new OciError("MANIFEST_INVALID", "origin manifest too large", undefined, 502);
    default:
      return new OciError("UNKNOWN", `origin registry answered ${err.statusCode}`, undefined, 502);
  }
}

/** Is this failure a statement about the credentials (so never a reason to use the offline rule)? */
export function isOriginVerdict(err: unknown): boolean {
  return err instanceof UpstreamStatusError && [401, 403, 404].includes(err.statusCode);
}
