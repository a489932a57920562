/** The repository's imports, read from the TypeScript sources and resolved to files. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Import } from "./layering";

const SKIP = new Set(["node_modules", "build", "dist", ".git", ".bench"]);
/** `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`, `require("x")`. */
const SPECIFIER = new RegExp(
  [
    /\b(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s*from\s*["']([^"']+)["']/,
    /^\s*import\s*["']([^"']+)["']/,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/,
  ]
    .map(pattern => pattern.source)
    .join("|"),
  "gm",
);
const EXTENSIONS = ["", ".ts", ".json", ".mjs", ".cjs", ".js", "/index.ts"];

/** Every import of every .ts file under `folders` of `root` (paths relative to `root`). */
export function repositoryImports(root: string, folders: readonly string[]): Import[] {
  return folders.flatMap(folder => sourceFiles(join(root, folder))).flatMap(file => importsOf(root, file));
}

function sourceFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return path.endsWith(".ts") ? [path] : [];
  return readdirSync(path)
    .filter(name => !SKIP.has(name))
    .flatMap(name => sourceFiles(join(path, name)));
}

function importsOf(root: string, file: string): Import[] {
  const from = toRepoPath(root, file);
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(SPECIFIER)].map(match => {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier.startsWith(".")) return { from, specifier };
    const target = resolveFile(resolve(dirname(file), specifier));
    return { from, specifier, to: target && toRepoPath(root, target) };
  });
}

function resolveFile(base: string): string | undefined {
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function toRepoPath(root: string, file: string): string {
  return relative(root, file).split(sep).join("/");
}
