import type { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import {
  cleanupRollout,
  CleanupRollout,
  deletingWithCleanup,
  FinalizerDecision,
  finalizerDecision,
  FinalizerInput,
  finalizersAfter,
  LiveAgentDaemonSet,
} from "./mirror-finalizer";
import { MIRROR_CLEANUP_FINALIZER } from "./names";

const F = MIRROR_CLEANUP_FINALIZER;
const done: CleanupRollout = { runsCleanup: true, complete: true, desired: 3, updated: 3, available: 3 };
const rolling: CleanupRollout = { ...done, complete: false, updated: 1, available: 1 };

describe("finalizerDecision", () => {
  const rows: { name: string; input: FinalizerInput; want: FinalizerDecision }[] = [
    {
      name: "mirror mode without the finalizer: add it",
      input: { role: "active", mode: "mirror", holds: false, applied: false, rollout: rolling },
      want: { change: "add", waiting: false },
    },
    {
      name: "mirror mode with it: keep it",
      input: { role: "active", mode: "mirror", holds: true, applied: true, rollout: done },
      want: { change: undefined, waiting: false },
    },
    {
      name: "rewrite mode, never mirror: nothing to do",
      input: { role: "active", mode: "rewrite", holds: false, applied: true, rollout: rolling },
      want: { waiting: false },
    },
    {
      name: "back to rewrite, cleanup rolling out: wait",
      input: { role: "active", mode: "rewrite", holds: true, applied: true, rollout: rolling },
      want: { waiting: true },
    },
    {
      name: "back to rewrite, cleanup complete everywhere: remove it",
      input: { role: "active", mode: "rewrite", holds: true, applied: true, rollout: done },
      want: { change: "remove", waiting: false },
    },
    {
      name: "back to rewrite, a complete rollout of a DaemonSet this pass did not apply: wait",
      input: { role: "active", mode: "rewrite", holds: true, applied: false, rollout: done },
      want: { waiting: true },
    },
    {
      name: "being deleted, cleanup rolling out: wait",
      input: { role: "deleting", mode: "rewrite", holds: true, applied: true, rollout: rolling },
      want: { waiting: true },
    },
    {
      name: "being deleted, cleanup complete: remove it (the deletion proceeds)",
      input: { role: "deleting", mode: "rewrite", holds: true, applied: true, rollout: done },
      want: { change: "remove", waiting: false },
    },
  ];
  it.each(rows)("$name", ({ input, want }) => expect(finalizerDecision(input)).toEqual(want));
});

describe("cleanupRollout", () => {
  const ds = (status: NonNullable<LiveAgentDaemonSet["status"]>, init = "mirror-cleanup") => ({
    metadata: { generation: 4 },
    spec: { template: { spec: { initContainers: [{ name: init }] } } },
    status,
  });
  const full = {
    observedGeneration: 4,
    desiredNumberScheduled: 3,
    updatedNumberScheduled: 3,
    numberAvailable: 3,
  };
  const rows: { name: string; ds: LiveAgentDaemonSet | undefined; complete: boolean; runs: boolean }[] = [
    { name: "every node updated and available", ds: ds(full), complete: true, runs: true },
    { name: "no DaemonSet", ds: undefined, complete: false, runs: false },
    {
      name: "the controller has not seen the cleanup spec yet",
      ds: ds({ ...full, observedGeneration: 3 }),
      complete: false,
      runs: true,
    },
    {
      name: "one node not updated",
      ds: ds({ ...full, updatedNumberScheduled: 2 }),
      complete: false,
      runs: true,
    },
    {
      name: "one updated pod not available yet (its init container may still run)",
      ds: ds({ ...full, numberAvailable: 2, numberUnavailable: 1 }),
      complete: false,
      runs: true,
    },
    {
      name: "no node scheduled: nothing to clean",
      ds: ds({ observedGeneration: 4, desiredNumberScheduled: 0 }),
      complete: true,
      runs: true,
    },
    {
      name: "a DaemonSet without the cleanup init container",
      ds: ds(full, "other"),
      complete: false,
      runs: false,
    },
  ];
  it.each(rows)("$name", ({ ds, complete, runs }) => {
    const rollout = cleanupRollout(ds);
    expect(rollout.complete).toBe(complete);
    expect(rollout.runsCleanup).toBe(runs);
  });
});

describe("deletingWithCleanup and finalizersAfter", () => {
  const config = (name: string, deleting: boolean, finalizers: string[]): P2PAccelerationConfig =>
    ({
      metadata: { name, finalizers, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    }) as P2PAccelerationConfig;
  const rows: { name: string; configs: P2PAccelerationConfig[]; want: string | undefined }[] = [
    { name: "none deleting", configs: [config("default", false, [F])], want: undefined },
    { name: "deleting without the finalizer", configs: [config("default", true, ["x"])], want: undefined },
    {
      name: "default first",
      configs: [config("a", true, [F]), config("default", true, [F])],
      want: "default",
    },
    { name: "else first by name", configs: [config("b", true, [F]), config("a", true, [F])], want: "a" },
  ];
  it.each(rows)("$name", ({ configs, want }) =>
    expect(deletingWithCleanup(configs)?.metadata?.name).toBe(want),
  );

  it("keeps others' finalizers, in order, and adds only once", () => {
    const c = config("default", false, ["a", F, "b"]);
    expect(finalizersAfter(c, "remove")).toEqual(["a", "b"]);
    expect(finalizersAfter(c, "add")).toEqual(["a", "b", F]);
  });
});
