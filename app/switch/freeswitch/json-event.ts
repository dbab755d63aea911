/**
 * A FreeSWITCH JSON event (`event json`), read without building an object of its ~160 members. FreeSWITCH writes
 * one flat object of string values with no whitespace (switch_event_serialize_json); the call leg reads a dozen of
 * them. JSON.parse of the four events of a call (~32 KB) allocated ~650 string values and four dictionary-mode
 * objects: ~40 us of CPU per event and much of the call node's garbage. Here one pass checks the text and notes
 * where each name and value lies; a value becomes a string only when it is read.
 *
 * The pass accepts only what it can check completely: `{`, members `"name":"value"` joined by `,`, `}`, nothing
 * between them, and inside strings no control character and only JSON's escapes. Such a text is valid JSON and
 * means exactly what JSON.parse would make of it. Anything else (whitespace, a number, a name with an escape, a
 * malformed text) answers undefined, and the caller goes the JSON.parse way, with its checks and error messages.
 */
import { SpanCollector, SpanHeaders } from './span-headers';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/**
 * No control character anywhere. Written as a whole-text match of allowed characters: V8 runs it about twice as fast
 * as searching for a control character (/[\x00-\x1f]/), which was 1.3% of the call node's busy time at 300 calls/s.
 */
// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\x00-\x1f]*$/;

const POSITIONS = new SpanCollector();

/** Where the members lie in the text: for member i, name [4i, 4i+1) and value [4i+2, 4i+3). */
function scan(text: string): number[] | undefined {
  const n = text.length;
  if (n < 2 || text.charCodeAt(0) !== 0x7b || text.charCodeAt(n - 1) !== 0x7d) return undefined;
  // A control character is never valid in this form (the JSON.parse way forgives some). Then a string ends at the
  // next quote that no backslash escapes: found with indexOf, and only backslashes are looked at one by one.
  if (!NO_CONTROL.test(text)) return undefined;
  const strings = new StringEnds(text);
  // Plain arrays of small integers: allocated in the young generation, unlike a typed array's backing store.
  const spans = POSITIONS;
  spans.start();
  let i = 1;
  if (n === 2) return spans.take();
  for (;;) {
    // "name"
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const nameStart = i + 1;
    const nameEnd = strings.end(nameStart, false);
    if (nameEnd < 0) return undefined;
    // :"value"
    if (text.charCodeAt(nameEnd + 1) !== 0x3a || text.charCodeAt(nameEnd + 2) !== QUOTE) return undefined;
    const valueStart = nameEnd + 3;
    const valueEnd = strings.end(valueStart, true);
    if (valueEnd < 0) return undefined;
    spans.add(nameStart, nameEnd, valueStart, valueEnd);
    const next = text.charCodeAt(valueEnd + 1);
    if (next === 0x2c) {
      i = valueEnd + 2;
      continue;
    }
    if (next === 0x7d && valueEnd + 2 === n) return spans.take();
    return undefined;
  }
}

/** Finds where strings end in a text already checked for control characters, scanning forward only. */
class StringEnds {
  /** The next backslash at or after where the last search started (n: none). */
  private backslash = -1;

  constructor(private readonly text: string) {}

  /**
   * The index of the closing quote of the string starting at `from`, or -1 when it does not close, or holds a bad
   * escape, or (`escapes` false: names) any escape.
   */
  end(from: number, escapes: boolean): number {
    const t = this.text;
    let at = from;
    for (;;) {
      const quote = t.indexOf('"', at);
      if (quote < 0) return -1;
      if (this.backslash < at) {
        this.backslash = t.indexOf('\\', at);
        if (this.backslash < 0) this.backslash = t.length;
      }
      if (this.backslash > quote) return quote;
      if (!escapes) return -1;
      const b = this.backslash;
      const e = t.charCodeAt(b + 1);
      if (e === 0x75) {
        // \uXXXX
        for (let k = b + 2; k < b + 6; k++) if (!isHex(t.charCodeAt(k))) return -1;
        at = b + 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        at = b + 2;
      } else {
        return -1;
      }
    }
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The headers of a JSON event, or undefined when the text is not in the form checked here (see above). */
export function jsonEventHeaders(text: string): JsonEventHeaders | undefined {
  const spans = scan(text);
  return spans ? new JsonEventHeaders(text, spans) : undefined;
}

/** A JSON event's members, read in place (span-headers.ts); escapes in a value are decoded when it is read. */
export class JsonEventHeaders extends SpanHeaders {
  protected value(m: number): string {
    const raw = this.rawValue(m);
    // Escapes were checked by the scan: JSON.parse of the quoted slice decodes them.
    return raw.includes('\\') ? (JSON.parse(this.text.slice(this.spans[4 * m + 2]! - 1, this.spans[4 * m + 3]! + 1)) as string) : raw;
  }
}
