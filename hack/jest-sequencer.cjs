// Runs the module RBAC suite after every other suite, so it checks the whole run's in-memory API
// requests (capabilities/testing/memory-api.ts); the rest keep jest's own order.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require("@jest/test-sequencer").default;

const LAST = /capabilities[\\/]rbac\.test\.ts$/;

class RbacLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    return [...sorted.filter(t => !LAST.test(t.path)), ...sorted.filter(t => LAST.test(t.path))];
  }
}

module.exports = RbacLastSequencer;
