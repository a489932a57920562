/** Failures talking to an origin registry, with stable codes the handler maps to OCI errors. */

export class UpstreamStatusError extends Error {
  readonly code = "PEERPULL_UPSTREAM_STATUS";
  constructor(
    readonly statusCode: number,
    message: string,
    /** The first OCI error code of the origin's JSON error body, when it sent one (e.g. NAME_UNKNOWN). */
    readonly ociCode?: string,
  ) {
    super(message);
    this.name = "UpstreamStatusError";
  }
}

export class UpstreamUnreachableError extends Error {
  readonly code = "PEERPULL_UPSTREAM_UNREACHABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UpstreamUnreachableError";
  }
}

/** 5xx, 429 and 408 are worth another attempt; other statuses are the origin's final word. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
