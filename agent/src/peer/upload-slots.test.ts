import { UploadSlots } from "./upload-slots";

describe("UploadSlots", () => {
  it("grants up to `slots` at once and turns the rest away until one is released", () => {
    const slots = new UploadSlots(2);
    const a = slots.tryAcquire()!;
    const b = slots.tryAcquire()!;
    expect(slots.tryAcquire()).toBeUndefined();
    a();
    a(); // a second release of the same slot frees nothing more
    expect(slots.inUse).toBe(1);
    const c = slots.tryAcquire()!;
    expect(slots.tryAcquire()).toBeUndefined();
    b();
    c();
    expect(slots.inUse).toBe(0);
  });

  it("rejects a non-positive size", () => {
    expect(() => new UploadSlots(0)).toThrow(/slots/);
  });
});
