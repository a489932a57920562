/** The only writer of error responses: the OCI JSON body, or a destroyed socket once headers are out. */
import type { ServerResponse } from "node:http";
import { OciError } from "../../../protocol/oci-error";

export const API_VERSION_HEADER = { "docker-distribution-api-version": "registry/2.0" } as const;

export function writeError(res: ServerResponse, err: OciError, method = "GET"): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = JSON.stringify(err.toBody());
  const headers: Record<string, string | number> = {
    ...API_VERSION_HEADER,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  };
  if (err.status === 401) headers["www-authenticate"] = 'Basic realm="peerpull"';
  const detail = err.detail as { contentRange?: string } | undefined;
  if (detail?.contentRange) headers["content-range"] = detail.contentRange;
  res.writeHead(err.status, headers);
  res.end(method === "HEAD" ? undefined : body);
}
