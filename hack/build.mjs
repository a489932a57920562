// Bundles the agent, the tracker, peerpull-render, the bench harness and the demo into build/ with
// esbuild (already a pepr peer dependency), so the services run as plain CommonJS on Node 20 without
// a tsc emit step. `npm run build` runs this file; jest's global setup (hack/jest-global-setup.mjs)
// calls buildAll() before any suite, so no test depends on someone having built first.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRIES = {
  "peerpull-agent": "agent/src/main.ts",
  "peerpull-tracker": "tracker/src/main.ts",
  "peerpull-render": "capabilities/reconciler/render-main.ts",
  bench: "hack/bench/main.ts",
  demo: "hack/demo/main.ts",
  sim: "hack/sim/main.ts",
};

/**
 * Builds every entry into build/. A file is rewritten only when its content changed, through a
 * rename, so a test already running a built binary never sees half a file.
 */
export async function buildAll({ logLevel = "warning" } = {}) {
  const entryPoints = Object.fromEntries(
    Object.entries(ENTRIES).filter(([, file]) => existsSync(join(ROOT, file))),
  );
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: "build",
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    sourcemap: true,
    banner: { js: "#!/usr/bin/env node" },
    logLevel,
    write: false,
  });
  await mkdir(join(ROOT, "build"), { recursive: true });
  for (const file of result.outputFiles) {
    const changed = !(await readFile(file.path).then(
      old => old.equals(file.contents),
      () => false,
    ));
    if (changed) {
      await writeFile(`${file.path}.tmp`, file.contents);
      await rename(`${file.path}.tmp`, file.path);
    }
    if (file.path.endsWith(".js")) await chmod(file.path, 0o755);
  }
  return result.outputFiles.filter(f => f.path.endsWith(".js")).map(f => relative(ROOT, f.path));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAll();
