/** skopeo pulls for agent tests, on top of hack/testenv/skopeo: pull into a temp dir, compare two. */
import { compareDirs, skopeoCopyToDir } from "../../hack/testenv/skopeo";
import { tempDir } from "../../hack/testenv/processes";
import type { Credentials } from "../../hack/testenv/registry";

export async function skopeoPull(ref: string, opts: { creds?: Credentials } = {}): Promise<string> {
  const dir = await tempDir("pull");
  await skopeoCopyToDir(ref, dir, { creds: opts.creds, timeoutMs: 180_000 });
  return dir;
}

export async function expectSamePull(a: string, b: string): Promise<void> {
  expect((await compareDirs(a, b)).differences).toEqual([]);
}
