// Reads a request body up to a byte limit; past it the request is refused with 413, never buffered.
import type { IncomingMessage } from "node:http";
import { TrackerError } from "../../../protocol/tracker-api";

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

function tooLarge(limit: number): TrackerError {
  return new TrackerError("PAYLOAD_TOO_LARGE", `body: larger than ${limit} bytes`);
}
