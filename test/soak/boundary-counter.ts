/**
 * Counts occurrences of a multipart boundary in a stream read in chunks, including one that a
 * chunk boundary splits in two. Each boundary marks one part, so this counts frames without
 * parsing them (the JPEGs never contain "--" followed by a 30+ character random boundary).
 */
export class BoundaryCounter {
  count = 0;
  bytes = 0;
  // The last needle.length - 1 bytes seen: the most of a boundary a chunk can end with.
  private tail = Buffer.alloc(0);

  constructor(private readonly needle: Buffer) {
    if (needle.length === 0) throw new Error('an empty boundary cannot be counted');
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const keep = this.needle.length - 1;
    if (this.tail.length > 0) {
      // Only matches that start in the tail span the seam; the others are found in the chunk.
      const seam = Buffer.concat([this.tail, chunk.subarray(0, keep)]);
      for (let at = seam.indexOf(this.needle); at !== -1 && at < this.tail.length; at = seam.indexOf(this.needle, at + 1)) this.count++;
    }
    for (let at = chunk.indexOf(this.needle); at !== -1; at = chunk.indexOf(this.needle, at + this.needle.length)) this.count++;
    const joined = chunk.length >= keep ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - keep)));
  }
}
