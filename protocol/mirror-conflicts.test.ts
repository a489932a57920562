import { decodeMirrorConflicts, MAX_CONFLICTS, MAX_FIELD_CHARS } from "./mirror-conflicts";

const conflict = { registry: "docker.io", path: "/etc/containerd/certs.d/docker.io/hosts.toml", reason: "r" };

describe("decodeMirrorConflicts", () => {
  const parses = [
    { name: "no conflicts", value: { mirror: true, conflicts: [] } },
    { name: "not in mirror mode", value: { mirror: false, conflicts: [] } },
    { name: "one conflict", value: { mirror: true, conflicts: [conflict] } },
    { name: "unknown fields ignored", value: { mirror: true, conflicts: [{ ...conflict, x: 1 }], y: 2 } },
  ];
  it.each(parses)("parses: $name", ({ value }) => {
    const decoded = decodeMirrorConflicts(value);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.body.conflicts).toEqual(value.conflicts.map(() => conflict));
  });

  const rejects = [
    { name: "not an object", value: [], problem: "not a JSON object" },
    { name: "mirror missing", value: { conflicts: [] }, problem: "mirror: not a boolean" },
    {
      name: "conflicts not an array",
      value: { mirror: true, conflicts: {} },
      problem: "conflicts: not an array",
    },
    {
      name: "too many",
      value: { mirror: true, conflicts: Array(MAX_CONFLICTS + 1).fill(conflict) },
      problem: `more than ${MAX_CONFLICTS}`,
    },
    {
      name: "item not an object",
      value: { mirror: true, conflicts: ["x"] },
      problem: "conflicts[0]: not an object",
    },
    {
      name: "empty registry",
      value: { mirror: true, conflicts: [{ ...conflict, registry: "" }] },
      problem: "conflicts[0].registry",
    },
    {
      name: "reason too long",
      value: { mirror: true, conflicts: [{ ...conflict, reason: "x".repeat(MAX_FIELD_CHARS + 1) }] },
      problem: "conflicts[0].reason",
    },
    {
      name: "path not a string",
      value: { mirror: true, conflicts: [{ ...conflict, path: 3 }] },
      problem: "conflicts[0].path",
    },
  ];
  it.each(rejects)("rejects: $name", ({ value, problem }) => {
    const decoded = decodeMirrorConflicts(value);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.problem).toContain(problem);
  });
});
