/**
 * Feeds the client's BlobWriter in order: whenever the next piece is held, it is written, then the
 * next, one chain at a time, so the client streams while pieces land. A piece offered while it is
 * among the next few to feed is taken from memory; any other is read back from the partial.
 *
 * When the writer can adopt the partial's data file (the disk store's can), it does so before the
 * first piece: pieces then stay where the swarm wrote them, the writer only hashes them in order,
 * and on commit the data file itself becomes the cached blob, so each byte is written once.
 */
import { type Bitfield, type PieceBytes, pieceParts } from "../../../protocol/pieces";
import type { BlobWriter } from "../cache/blob-store";

export interface FeederSource {
  have: () => Bitfield;
  /** Piece `index` as stored (it is held). */
  readPiece: (index: number) => Promise<Buffer>;
  /** The file the pieces are stored in, at their offsets, for a writer that can adopt it. */
  file?: string;
}

/** Pieces ahead of the feed point kept in memory (bounds what a download holds to a few pieces). */
const HELD_AHEAD = 4;

export class InOrderFeeder {
  private fed = 0;
  private running?: Promise<void>;
  private readonly held = new Map<number, readonly Buffer[]>();
  private adopted = false;
  error?: Error;

  constructor(
    private writer: BlobWriter,
    private readonly source: FeederSource,
    private readonly count: number,
    private readonly onIdle: () => void,
  ) {}

  /** The writer to commit or abort: the one the first piece adopted, if it did. */
  get target(): BlobWriter {
    return this.writer;
  }

  /** Starts writing if the next piece is held and no chain is running. */
  kick(): void {
    if (this.running || this.error || this.fed >= this.count) return;
    if (!this.source.have().has(this.fed)) return;
    this.running = this.writeHeld()
      .catch(err => {
        this.error = err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        this.running = undefined;
        this.onIdle();
      });
  }

  /**
   * A piece that just landed, with its bytes exactly as stored (in one buffer, or in the parts it
   * came in): kept to feed from memory when it is due soon.
   */
  offer(index: number, data: PieceBytes): void {
    if (index >= this.fed && index < this.fed + HELD_AHEAD) this.held.set(index, pieceParts(data));
    this.kick();
  }

  /** Writes everything; every piece must be held by now. */
  async finish(): Promise<void> {
    for (let round = 0; round <= this.count + 1 && this.fed < this.count; round++) {
      this.kick();
      await this.running;
      if (this.error) throw this.error;
    }
    if (this.fed < this.count) throw new Error(`${this.count - this.fed} pieces never arrived`);
  }

  private async writeHeld(): Promise<void> {
    if (!this.adopted && this.fed === 0 && this.source.file && this.writer.adopt) {
      this.writer = await this.writer.adopt(this.source.file);
      this.adopted = true;
    }
    while (this.fed < this.count && this.source.have().has(this.fed)) {
      const parts = this.held.get(this.fed) ?? [await this.source.readPiece(this.fed)];
      this.held.delete(this.fed);
      for (const part of parts) await this.writer.write(part);
      this.fed++;
    }
  }
}
