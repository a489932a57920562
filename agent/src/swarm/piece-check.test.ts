import { generateKeyPairSync, sign } from "node:crypto";
import { proofPayload, publicKeyFromWire, publicKeyToWire } from "../../../protocol/piece-proof";
import { sha256Hex } from "../../../protocol/pieces";
import { checkPeerPiece, PieceContext } from "./piece-check";

const DIGEST = "sha256:" + "ab".repeat(32);
const data = Buffer.from("0123456789");
const hashHex = sha256Hex(data);
const tracker = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");
const wire = publicKeyToWire(tracker.publicKey);
const ctx: PieceContext = {
  digest: DIGEST,
  size: 25,
  pieceSize: 10,
  index: 1,
  trackerKey: { wire, key: publicKeyFromWire(wire) },
};
const signed = (privateKey = tracker.privateKey, index = 1, hash = hashHex) =>
  sign(null, proofPayload(DIGEST, 10, index, hash), privateKey).toString("base64");
const piece = (
  over: Partial<{ hashHex: string; signature: string; trackerKey: string }> = {},
  bytes = data,
) => ({
  data: bytes,
  proof: { hashHex, signature: signed(), trackerKey: wire, ...over },
});

describe("checkPeerPiece", () => {
  it("keeps a piece whose proof verifies and whose bytes match", () => {
    expect(checkPeerPiece(piece(), ctx)).toEqual({ ok: true, hashHex });
  });

  const refused = [
    { name: "no proof", piece: { data }, verdict: "bad" },
    {
      name: "a proof under another tracker key",
      piece: piece({ trackerKey: publicKeyToWire(other.publicKey) }),
      verdict: "stale-key",
    },
    {
      name: "a signature by someone else",
      piece: piece({ signature: signed(other.privateKey) }),
      verdict: "bad",
    },
    {
      name: "a proof for another index",
      piece: piece({ signature: signed(tracker.privateKey, 2) }),
      verdict: "bad",
    },
    {
      name: "a forged hash for forged bytes",
      piece: piece({ hashHex: sha256Hex(Buffer.from("evil-bytes")) }, Buffer.from("evil-bytes")),
      verdict: "bad",
    },
    {
      name: "bytes that do not match the proven hash",
      piece: piece({}, Buffer.from("0123456780")),
      verdict: "bad",
    },
    { name: "a malformed hash", piece: piece({ hashHex: "nope" }), verdict: "bad" },
  ];
  it.each(refused)("refuses $name", ({ piece: sent, verdict }) => {
    expect(checkPeerPiece(sent, ctx)).toMatchObject({ ok: false, verdict });
  });
});
