// Bundles the agent, the tracker, peerpull-render, the bench harness and the demo into build/ with
// esbuild (already a pepr peer dependency), so the services run as plain CommonJS on Node 20 without
// a tsc emit step. `npm run build` runs this file; jest's global setup (hack/jest-global-setup.mjs)
// calls buildAll() before any suite, so no test depends on someone having built first.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
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
 * Node flags an entry starts with, written into its shebang (`#!/usr/bin/env -S node FLAGS`): the
 * image's commands and `./build/<entry>.js` run through it, and the test launchers read it back
 * (hack/testenv/agent.ts). The agent keeps ~14 MiB of live heap; on a heap that small V8's default
 * old-generation limit ran a full mark-compact every 1-2 s during a herd (request objects that
 * outlive two scavenges on a slow link), about a fifth of the agent's CPU. A 64 MiB initial old space
 * leaves one or two per herd (BENCHMARKS.md, issue 15).
 */
const NODE_FLAGS = { "peerpull-agent": ["--initial-old-space-size=64"] };

/** The first line of an entry's bundle. */
function shebang(entry) {
  const flags = NODE_FLAGS[entry] ?? [];
  return flags.length ? `#!/usr/bin/env -S node ${flags.join(" ")}` : "#!/usr/bin/env node";
}

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
    const contents = withShebang(file);
    const changed = !(await readFile(file.path).then(
      old => old.equals(contents),
      () => false,
    ));
    if (changed) {
      await writeFile(`${file.path}.tmp`, contents);
      await rename(`${file.path}.tmp`, file.path);
    }
    if (file.path.endsWith(".js")) await chmod(file.path, 0o755);
  }
  return result.outputFiles.filter(f => f.path.endsWith(".js")).map(f => relative(ROOT, f.path));
}

/** The output with its entry's shebang in place of the banner's (one line for another: maps still hold). */
function withShebang(file) {
  const contents = Buffer.from(file.contents);
  if (!file.path.endsWith(".js")) return contents;
  const entry = basename(file.path, ".js");
  const firstLineEnd = contents.indexOf(0x0a);
  return Buffer.concat([Buffer.from(shebang(entry)), contents.subarray(firstLineEnd)]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAll();
