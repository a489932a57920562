/**
 * What a client is told when the origin refuses or fails a tags list or referrers request. The
 * origin decides access, as for manifests: its 401/403/404 are passed on as the spec's codes.
 */
import { OciError } from "../../../protocol/oci-error";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";
import { InvalidTagListError } from "./tags-page";

export type ListingKind = "tags" | "referrers";

/** The OciError to answer with, or undefined for an unexpected failure (the router logs it, 500). */
export function listingErrorToOci(err: unknown, kind: ListingKind): OciError | undefined {
  if (err instanceof OciError) return err;
  if (err instanceof UpstreamUnreachableError)
    return new OciError("UNAVAILABLE", "origin registry unreachable");
  if (err instanceof InvalidTagListError) return new OciError("UNKNOWN", err.message, undefined, 502);
  if (!(err instanceof UpstreamStatusError)) return undefined;
  switch (err.statusCode) {
    case 401:
      return new OciError("UNAUTHORIZED", "authentication required by the origin registry");
    case 403:
      return new OciError("DENIED", "the origin registry denied access");
    case 404:
      return new OciError("NAME_UNKNOWN", "repository name not known to the origin registry");
    case 429:
      return new OciError("TOOMANYREQUESTS", "the origin registry is rate limiting");
    case 413:
      return new OciError(
        "UNKNOWN",
        `origin ${kind} answer is larger than the agent accepts`,
        undefined,
        502,
      );
    default:
      return new OciError("UNKNOWN", `origin registry answered ${err.statusCode}`, undefined, 502);
  }
}
