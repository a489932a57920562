// jest's global setup: build/ (the agent, tracker and render binaries the e2e suites start) is
// built once before any suite runs, or the run stops here with esbuild's reasons.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll } from "./build.mjs";

export default async function globalSetup() {
  // every in-memory cluster request of the run, for the RBAC suite (capabilities/testing/memory-api.ts)
  const dir = mkdtempSync(join(tmpdir(), "peerpull-api-calls-"));
  process.env.PEERPULL_API_CALLS_LOG = join(dir, "calls.jsonl");
  writeFileSync(process.env.PEERPULL_API_CALLS_LOG, "");
  try {
    await buildAll({ logLevel: "silent" });
  } catch (err) {
    const reasons = (err.errors ?? []).map(
      e => `  ${e.location?.file ?? ""}:${e.location?.line ?? ""} ${e.text}`,
    );
    throw new Error(
      [
        "jest global setup: building build/ failed (what `npm run build` does):",
        ...reasons,
        reasons.length ? "" : String(err),
      ].join("\n"),
    );
  }
}
