const fs = require("node:fs");
const path = require("node:path");

// kubernetes-fluent-client (brought by pepr) and its deps are ESM-only; jest on Node 20 runs CJS,
// so ts-jest also transforms those packages (DESIGN section 4).
const esmPackages = [
  "kubernetes-fluent-client",
  "@kubernetes/client-node",
  "openid-client",
  "oauth4webapi",
  "jose",
  "quicktype-core",
  "@isomorphic-git",
  "uuid",
  // pepr's own mutate processor, so tests get the exact patch the module returns
  "pepr/src",
];

module.exports = {
  testEnvironment: "node",
  roots: ["protocol", "service-kit", "agent", "tracker", "capabilities", "hack", "e2e"]
    .filter(dir => fs.existsSync(path.join(__dirname, dir)))
    .map(dir => `<rootDir>/${dir}`),
  testMatch: ["**/*.test.ts"],
  // Builds build/ (agent, tracker, render) before any suite: no test relies on `npm run build` first.
  globalSetup: "<rootDir>/hack/jest-global-setup.mjs",
  // The RBAC suite last: it checks every in-memory API request of the run against the module's role.
  testSequencer: "<rootDir>/hack/jest-sequencer.cjs",
  // Quiet output: Pepr's own logger (pino straight to stdout) keeps to warnings in tests.
  setupFiles: ["<rootDir>/hack/jest-quiet-logs.cjs"],
  transform: {
    "^.+\\.[tj]sx?$": ["ts-jest", { tsconfig: "tsconfig.jest.json", diagnostics: false }],
    "^.+\\.m?js$": ["ts-jest", { tsconfig: "tsconfig.jest.json", diagnostics: false }],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esmPackages.join("|")})/)`],
  testTimeout: 60000,
};
