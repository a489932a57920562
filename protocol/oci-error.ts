/** OCI distribution error codes, their HTTP statuses, and the JSON body the spec defines. */

export const OCI_ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  DIGEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  PAGINATION_NUMBER_INVALID: 400,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
} as const;

export type OciErrorCode = keyof typeof OCI_ERROR_STATUS;

export interface OciErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

export class OciError extends Error {
  readonly status: number;

  constructor(
    readonly code: OciErrorCode,
    message: string,
    readonly detail?: unknown,
    status?: number,
  ) {
    super(message);
    this.name = "OciError";
    this.status = status ?? OCI_ERROR_STATUS[code];
  }

  toBody(): OciErrorBody {
    const entry: OciErrorBody["errors"][number] = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}
