import type { ConflictsReading, NodeConflict } from "./agent-conflicts";
import { conflictsStatus, MAX_LISTED_CONFLICTS } from "./mirror-conflicts-status";

const c = (node: string, registry: string): NodeConflict => ({ node, registry, reason: "r" });
const reading = (over: Partial<ConflictsReading>): ConflictsReading => ({
  agents: 3,
  answered: 3,
  failed: [],
  conflicts: [],
  ...over,
});

describe("conflictsStatus", () => {
  const rows: { name: string; reading: ConflictsReading; status: string; reason: string; message: RegExp }[] =
    [
      {
        name: "no agent ready yet",
        reading: reading({ agents: 0, answered: 0 }),
        status: "Unknown",
        reason: "NoAgentsReady",
        message: /no ready agent/,
      },
      {
        name: "none answered: the first error and what to check",
        reading: reading({ answered: 0, failed: [{ node: "n1", error: "ECONNREFUSED" }] }),
        status: "Unknown",
        reason: "AgentsUnreachable",
        message: /none of 3 ready agents answered on port 65002 \(n1: ECONNREFUSED\).*peer port/,
      },
      {
        name: "all clean",
        reading: reading({}),
        status: "False",
        reason: "NoConflicts",
        message: /^3 of 3 ready agents answered, none/,
      },
      {
        name: "clean so far, some not asked yet",
        reading: reading({ answered: 2 }),
        status: "False",
        reason: "NoConflicts",
        message: /1 did not answer/,
      },
      {
        name: "conflicts: registries named with their node counts",
        reading: reading({ conflicts: [c("n2", "docker.io"), c("n1", "docker.io"), c("n1", "ghcr.io")] }),
        status: "True",
        reason: "ForeignHostsFiles",
        message: /docker\.io \(2 nodes\), ghcr\.io \(1 node\); remove the file/,
      },
      {
        name: "many registries: five named, the rest counted",
        reading: reading({ conflicts: ["a", "b", "c", "d", "e", "f", "g"].map(r => c("n1", r)) }),
        status: "True",
        reason: "ForeignHostsFiles",
        message: /e \(1 node\) and 2 more/,
      },
    ];
  it.each(rows)("$name", ({ reading, status, reason, message }) => {
    const { verdict } = conflictsStatus(reading);
    expect(verdict).toMatchObject({ status, reason });
    expect(verdict.message).toMatch(message);
  });

  it("lists at most 20, by registry then node", () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      c(`node-${String(i).padStart(2, "0")}`, i % 2 ? "b.io" : "a.io"),
    );
    const { listed } = conflictsStatus(reading({ conflicts: many }));
    expect(listed).toHaveLength(MAX_LISTED_CONFLICTS);
    expect(listed.slice(0, 15).every(x => x.registry === "a.io")).toBe(true);
    expect(listed[0].node).toBe("node-00");
    expect(listed[1].node).toBe("node-02");
  });
});
