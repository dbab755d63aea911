/**
 * An ESL header block (`Name: value` lines) read in place: one pass notes where each name and value lies, and a
 * value becomes a string when it is read (span-headers.ts). The outbound connect reply is a block of ~160 lines of
 * channel data; building an object of it (two strings and a dictionary entry per line), then copying it into the
 * reply's and the channel's headers, was ~6% of the call node's busy time at 300 calls/s.
 *
 * Lines are read as parseHeaderLines reads them (esl-framer.ts): a line without `: ` is a name with an empty value,
 * blank lines are skipped, and a name repeated keeps its first place and its last value.
 */
import { SpanCollector, SpanHeaders } from './span-headers';

const POSITIONS = new SpanCollector();

export class HeaderBlock extends SpanHeaders {
  /** `decode`: values are kept as received and decoded when read (the connect reply's URL-encoded values). */
  constructor(
    text: string,
    spans: readonly number[],
    private readonly decodeValue?: (value: string) => string,
  ) {
    super(text, spans);
  }

  /** The lines of `text` (no final blank line), without decoding. */
  static parse(text: string): HeaderBlock {
    return new HeaderBlock(text, lineSpans(text));
  }

  protected value(m: number): string {
    return this.decodeValue ? this.decodeValue(this.rawValue(m)) : this.rawValue(m);
  }

  /**
   * The members whose name is exactly one of `names`, and the others, each over the same text, values decoded with
   * `decode` when read.
   */
  split(names: ReadonlySet<string>, decode?: (value: string) => string): [named: HeaderBlock, others: HeaderBlock] {
    const s = this.spans;
    const named: number[] = [];
    const others = POSITIONS;
    others.start();
    for (let m = 0; m < this.count; m++) {
      if (this.isOneOf(m, names)) named.push(s[4 * m]!, s[4 * m + 1]!, s[4 * m + 2]!, s[4 * m + 3]!);
      else others.add(s[4 * m]!, s[4 * m + 1]!, s[4 * m + 2]!, s[4 * m + 3]!);
    }
    return [new HeaderBlock(this.text, named, decode), new HeaderBlock(this.text, others.take(), decode)];
  }

  /** The object parseHeaderLines would have made of the block (values decoded as read): for tests and logs. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let m = 0; m < this.count; m++) out[this.name(m)] = this.value(m);
    return out;
  }

  private isOneOf(m: number, names: ReadonlySet<string>): boolean {
    for (const name of names) if (this.matches(m, name, false)) return true;
    return false;
  }
}

/** Where each line's name and value lie: [nameStart, nameEnd, valueStart, valueEnd] per non-blank line. */
function lineSpans(text: string): number[] {
  const spans = POSITIONS;
  spans.start();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const sep = text.indexOf(': ', start);
      if (sep >= 0 && sep < end) spans.add(start, sep, sep + 2, end);
      else spans.add(start, end, end, end);
    }
    start = end + 1;
  }
  return spans.take();
}
