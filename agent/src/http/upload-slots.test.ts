import { UploadSlots } from "./upload-slots";

describe("UploadSlots", () => {
  it("grants up to `slots` at once, queues up to `maxWaiting`, turns the rest away", async () => {
    const slots = new UploadSlots(2, 1);
    const a = await slots.acquire()!;
    const b = await slots.acquire()!;
    let cGot = false;
    const c = slots.acquire()!.then(release => ((cGot = true), release));
    expect(slots.acquire()).toBeUndefined();
    expect([slots.inUse, slots.queued]).toEqual([2, 1]);
    await Promise.resolve();
    expect(cGot).toBe(false);
    a();
    a(); // a second release of the same slot changes nothing
    const releaseC = await c;
    expect([slots.inUse, slots.queued]).toEqual([2, 0]);
    b();
    releaseC();
    expect(slots.inUse).toBe(0);
  });

  it("drops a waiter whose asker went away", async () => {
    const slots = new UploadSlots(1, 2);
    const first = await slots.acquire()!;
    const gone = new AbortController();
    const abandoned = slots.acquire(gone.signal)!;
    const next = slots.acquire()!;
    gone.abort();
    (await abandoned)(); // the no-op release
    expect(slots.queued).toBe(1);
    first();
    const release = await next;
    expect(slots.inUse).toBe(1);
    release();
    expect(slots.inUse).toBe(0);
  });

  it("rejects nonsense sizes", () => {
    expect(() => new UploadSlots(0, 1)).toThrow(/slots/);
    expect(() => new UploadSlots(1, -1)).toThrow(/maxWaiting/);
  });
});
