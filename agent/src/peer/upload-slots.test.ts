import { UploadSlots } from "./upload-slots";

describe("UploadSlots", () => {
  it("grants up to `slots` pieces at once and turns the rest away until one is released", () => {
    const slots = new UploadSlots(2);
    const a = slots.tryAcquire("d:1")!;
    const b = slots.tryAcquire("d:2")!;
    expect(slots.tryAcquire("d:3")).toBeUndefined();
    a();
    a(); // a second release of the same slot frees nothing more
    expect(slots.inUse).toBe(1);
    const c = slots.tryAcquire("d:3")!;
    expect(slots.tryAcquire("d:4")).toBeUndefined();
    b();
    c();
    expect(slots.inUse).toBe(0);
  });

  it("sends one piece to one asker at a time, whatever slots are free", () => {
    const slots = new UploadSlots(4);
    const first = slots.tryAcquire("d:7")!;
    expect(slots.tryAcquire("d:7")).toBeUndefined();
    expect(slots.tryAcquire("e:7")).toBeDefined(); // the same index of another blob is another piece
    first();
    expect(slots.tryAcquire("d:7")).toBeDefined();
  });

  it("rejects a non-positive size", () => {
    expect(() => new UploadSlots(0)).toThrow(/slots/);
  });
});
