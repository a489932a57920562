import { OciError } from "../../../protocol/oci-error";
import { UpstreamStatusError, UpstreamUnreachableError } from "../upstream/errors";
import { listingErrorToOci } from "./listing-errors";
import { InvalidTagListError } from "./tags-page";

describe("listingErrorToOci", () => {
  const rows = [
    { name: "origin 401", err: new UpstreamStatusError(401, "x"), code: "UNAUTHORIZED", status: 401 },
    { name: "origin 403", err: new UpstreamStatusError(403, "x"), code: "DENIED", status: 403 },
    {
      name: "origin 404",
      err: new UpstreamStatusError(404, "x", "NAME_UNKNOWN"),
      code: "NAME_UNKNOWN",
      status: 404,
    },
    { name: "origin 429", err: new UpstreamStatusError(429, "x"), code: "TOOMANYREQUESTS", status: 429 },
    { name: "origin body too large", err: new UpstreamStatusError(413, "x"), code: "UNKNOWN", status: 502 },
    { name: "origin 500", err: new UpstreamStatusError(500, "x"), code: "UNKNOWN", status: 502 },
    { name: "origin unreachable", err: new UpstreamUnreachableError("x"), code: "UNAVAILABLE", status: 503 },
    { name: "origin sent garbage", err: new InvalidTagListError("x"), code: "UNKNOWN", status: 502 },
    {
      name: "already an OciError",
      err: new OciError("DIGEST_INVALID", "x"),
      code: "DIGEST_INVALID",
      status: 400,
    },
  ];
  it.each(rows)("$name -> $status $code", ({ err, code, status }) => {
    const oci = listingErrorToOci(err, "tags");
    expect(oci?.code).toBe(code);
    expect(oci?.status).toBe(status);
  });

  it("leaves an unexpected failure to the router (logged, 500)", () => {
    expect(listingErrorToOci(new TypeError("bug"), "referrers")).toBeUndefined();
  });
});
