import type { AnnounceRequest, AnnounceResponse } from "../../../protocol/tracker-api";
import { rendezvousPick, ShardedTracker } from "./tracker-shards";

const URLS = ["http://t0:65010", "http://t1:65010", "http://t2:65010"];
const digestOf = (i: number) => "sha256:" + i.toString(16).padStart(64, "0");

describe("rendezvousPick", () => {
  it("spreads digests over every replica and is stable", () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rendezvousPick(URLS, digestOf(i))]++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(rendezvousPick(URLS, digestOf(7))).toBe(rendezvousPick([...URLS], digestOf(7)));
  });

  it("moves only the removed replica's digests when one goes away", () => {
    const fewer = [URLS[0], URLS[2]];
    for (let i = 0; i < 500; i++) {
      const before = URLS[rendezvousPick(URLS, digestOf(i))];
      const after = fewer[rendezvousPick(fewer, digestOf(i))];
      if (before !== URLS[1]) expect(after).toBe(before);
    }
  });

  it("refuses an empty list", () => {
    expect(() => rendezvousPick([], digestOf(1))).toThrow(RangeError);
  });
});

describe("ShardedTracker", () => {
  it("sends a digest's announces to its replica and a full leave to every replica", async () => {
    const calls: string[] = [];
    const clients = URLS.map(url => ({
      announce: async (body: AnnounceRequest) => {
        calls.push(`${url} announce ${body.digest}`);
        return {} as AnnounceResponse;
      },
      leave: async (peerId: string, digest?: string) => {
        calls.push(`${url} leave ${peerId} ${digest ?? "all"}`);
      },
      close: async () => undefined,
    }));
    const sharded = new ShardedTracker(URLS, clients);
    const digest = digestOf(42);
    const home = URLS[rendezvousPick(URLS, digest)];
    await sharded.announce({ digest } as AnnounceRequest);
    await sharded.leave("p1", digest);
    await sharded.leave("p1");
    expect(calls).toEqual([
      `${home} announce ${digest}`,
      `${home} leave p1 ${digest}`,
      ...URLS.map(url => `${url} leave p1 all`),
    ]);
  });
});
