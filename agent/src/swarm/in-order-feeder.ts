/**
 * Feeds the client's BlobWriter in order: whenever the next piece is held, it is read back from the
 * partial and written, then the next, one chain at a time, so the client streams while pieces land.
 */
import type { Readable } from "node:stream";
import type { Bitfield, PieceSpan } from "../../../protocol/pieces";
import type { BlobWriter } from "../cache/blob-store";

export interface FeederSource {
  have: () => Bitfield;
  span: (index: number) => PieceSpan;
  read: (start: number, end: number) => Readable;
}

export class InOrderFeeder {
  private fed = 0;
  private running?: Promise<void>;
  error?: Error;

  constructor(
    private readonly writer: BlobWriter,
    private readonly source: FeederSource,
    private readonly count: number,
    private readonly onIdle: () => void,
  ) {}

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
    while (this.fed < this.count && this.source.have().has(this.fed)) {
      const span = this.source.span(this.fed);
      const chunks: Buffer[] = [];
      for await (const chunk of this.source.read(span.start, span.end)) chunks.push(chunk as Buffer);
      await this.writer.write(Buffer.concat(chunks));
      this.fed++;
    }
  }
}
