// jest's global setup: build/ (the agent, tracker and render binaries the e2e suites start) is
// built once before any suite runs, or the run stops here with esbuild's reasons.
import { buildAll } from "./build.mjs";

export default async function globalSetup() {
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
