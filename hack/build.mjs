// Bundles the agent, the tracker, peerpull-render and the bench harness into build/ with esbuild (already a pepr
// peer dependency), so the services run as plain CommonJS on Node 20 without a tsc emit step.
import { build } from "esbuild";
import { chmod } from "node:fs/promises";

const entries = {
  "peerpull-agent": "agent/src/main.ts",
  "peerpull-tracker": "tracker/src/main.ts",
  "peerpull-render": "capabilities/reconciler/render-main.ts",
  bench: "hack/bench/main.ts",
  demo: "hack/demo/main.ts",
  sim: "hack/sim/main.ts",
};
const existing = Object.fromEntries(
  await Promise.all(
    Object.entries(entries).map(async ([name, file]) => {
      try {
        await import("node:fs").then(fs => fs.promises.access(file));
        return [name, file];
      } catch {
        return [name, null];
      }
    }),
  ).then(pairs => pairs.filter(([, file]) => file)),
);

await build({
  entryPoints: existing,
  outdir: "build",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: true,
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
await Promise.all(Object.keys(existing).map(name => chmod(`build/${name}.js`, 0o755)));
