import typescriptEslint from "@typescript-eslint/eslint-plugin";
import tsParser from "@typescript-eslint/parser";
import js from "@eslint/js";
import { FlatCompat } from "@eslint/eslintrc";
import globals from "globals";
import path from "node:path";
import { fileURLToPath } from "node:url";
import layers from "./hack/layering/layers.json" with { type: "json" };

const __dirname = path.dirname(fileURLToPath(import.meta.url));
const compat = new FlatCompat({ baseDirectory: __dirname, recommendedConfig: js.configs.recommended });

/*
 * Import boundaries, generated from hack/layering/layers.json (the one table; docs/architecture.md
 * says why, hack/layering/layering.test.ts checks the resolved import graph and the table's cycles).
 * Each part gets one no-restricted-imports rule listing every part it may not import.
 */
const TEST_FILES = ["**/*.test.ts"];
const folderOf = { agent: "agent/src", tracker: "tracker/src", "pepr.ts": "pepr" };
const escape = text => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A relative import whose path has `folder` as a whole segment (or ends in it). */
const reaching = (folder, why) => ({
  regex: `^\\.{1,2}/(?:.*/)?${escape(folder)}(?:\\.ts)?(?:/|$)`,
  message: `${why} (hack/layering/layers.json)`,
});
const forbidden = (table, part, extra = []) =>
  table[part] === "*"
    ? []
    : Object.keys(table).filter(
        other => other !== part && !table[part].includes(other) && !extra.includes(other),
      );

function deployableRestrictions(part, { test }) {
  const extra = test ? layers.testsMayAlsoImport : [];
  return forbidden(layers.deployables, part, extra).map(other =>
    reaching(folderOf[other] ?? other, `${part} may not import ${other}`),
  );
}

function agentRestrictions(module, { test, pendingTo = [] }) {
  const extra = [...(test ? layers.agentTestsMayAlsoImport : []), ...pendingTo];
  return forbidden(layers.agentFolders, module, extra).map(other =>
    reaching(other.replace(/\.ts$/, ""), `agent/src/${module} may not import agent/src/${other}`),
  );
}

const PROTOCOL_PACKAGES = {
  regex: `^(?!\\.|${layers.protocolPackages.map(escape).join("$|")}$)`,
  message: `protocol/ is pure: no I/O, only ${layers.protocolPackages.join(", ")} (hack/layering/layers.json)`,
};

const rule = patterns => ({ "no-restricted-imports": ["error", { patterns }] });
const testsOf = files => files.map(file => file.replace(/\.ts$/, ".test.ts"));

/** Two blocks for a part: its code, and its tests (which may also import the harness). */
const partConfigs = (files, patternsFor) => [
  { files, ignores: TEST_FILES, rules: rule(patternsFor({ test: false })) },
  { files: testsOf(files), rules: rule(patternsFor({ test: true })) },
];

function layeringConfigs() {
  const deployables = Object.keys(layers.deployables).filter(
    part => layers.deployables[part] !== "*" && part !== "agent", // agent: per folder, below
  );
  const agentModules = Object.keys(layers.agentFolders);
  return [
    ...deployables.flatMap(part =>
      partConfigs(part.endsWith(".ts") ? [part] : [`${part}/**/*.ts`], ({ test }) => [
        ...deployableRestrictions(part, { test }),
        ...(part === "protocol" && !test ? [PROTOCOL_PACKAGES] : []),
      ]),
    ),
    ...agentModules.flatMap(module =>
      partConfigs(
        [module.endsWith(".ts") ? `agent/src/${module}` : `agent/src/${module}/**/*.ts`],
        ({ test }) => [...deployableRestrictions("agent", { test }), ...agentRestrictions(module, { test })],
      ),
    ),
    ...layers.pending.map(({ from, to }) => {
      const test = from.endsWith(".test.ts");
      const module = from.slice("agent/src/".length).split("/")[0];
      return {
        files: [from],
        rules: rule([
          ...deployableRestrictions("agent", { test }),
          ...agentRestrictions(module, { test, pendingTo: [to] }),
        ]),
      };
    }),
  ];
}

export default [
  { ignores: ["**/node_modules", "**/dist", "**/build", "jest.config.cjs"] },
  ...compat.extends("eslint:recommended", "plugin:@typescript-eslint/recommended"),
  {
    plugins: { "@typescript-eslint": typescriptEslint },
    languageOptions: {
      parser: tsParser,
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.mjs", "hack/*.mjs", "hack/*.cjs"] },
        tsconfigRootDir: __dirname,
        sourceType: "module",
      },
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...layeringConfigs(),
];
