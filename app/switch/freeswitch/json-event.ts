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
import { EslHeaders } from './headers';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f]/;

/** Where the members lie in the text: for member i, name [4i, 4i+1) and value [4i+2, 4i+3). */
function scan(text: string): Int32Array | undefined {
  const n = text.length;
  if (n < 2 || text.charCodeAt(0) !== 0x7b || text.charCodeAt(n - 1) !== 0x7d) return undefined;
  // A control character is never valid in this form (the JSON.parse way forgives some). Then a string ends at the
  // next quote that no backslash escapes: found with indexOf, and only backslashes are looked at one by one.
  if (CONTROL.test(text)) return undefined;
  const strings = new StringEnds(text);
  let spans = new Int32Array(4 * 192);
  let count = 0;
  let i = 1;
  if (n === 2) return spans.subarray(0, 0);
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
    if (4 * count + 4 > spans.length) {
      const more = new Int32Array(spans.length * 2);
      more.set(spans);
      spans = more;
    }
    spans[4 * count] = nameStart;
    spans[4 * count + 1] = nameEnd;
    spans[4 * count + 2] = valueStart;
    spans[4 * count + 3] = valueEnd;
    count++;
    const next = text.charCodeAt(valueEnd + 1);
    if (next === 0x2c) {
      i = valueEnd + 2;
      continue;
    }
    if (next === 0x7d && valueEnd + 2 === n) return spans.subarray(0, 4 * count);
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

const NONE: Readonly<Record<string, string>> = Object.freeze({});

export class JsonEventHeaders extends EslHeaders {
  constructor(
    private readonly text: string,
    private readonly spans: Int32Array,
  ) {
    super(NONE);
  }

  /** As JSON.parse would have it: the last member of that name, or else a member of that name in another case (the last). */
  override get(name: string): string | undefined {
    const exact = this.find(name, false);
    return exact >= 0 ? this.value(exact) : this.caselessValue(name);
  }

  override entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const seen = new Map<string, number>();
    // One entry per name, at its first place, with its last value: what Object.entries of JSON.parse's object gives
    // (but for names that are array indices, which an object lists first; FreeSWITCH's names never are).
    for (let m = 0; m < this.spans.length / 4; m++) {
      const name = this.name(m);
      const at = seen.get(name);
      if (at === undefined) {
        seen.set(name, out.length);
        out.push([name, this.value(m)]);
      } else out[at]![1] = this.value(m);
    }
    return out;
  }

  override entriesStartingWith(prefixes: readonly string[]): Array<[string, string]> {
    return this.entries().filter(([k]) => prefixes.some((p) => k.toLowerCase().startsWith(p)));
  }

  /** The member named so (exact case), the last of that name: what JSON.parse's object holds under it. */
  member(name: string): string | undefined {
    const m = this.find(name, false);
    return m >= 0 ? this.value(m) : undefined;
  }

  /**
   * EslHeaders' fallback over JSON.parse's object: among the names equal to `name` in any case, the one whose first
   * member comes last in the text (the object's key order), with its last value. Misses scan and allocate nothing.
   */
  private caselessValue(name: string): string | undefined {
    let matches: number[] | undefined;
    for (let m = 0; m < this.spans.length / 4; m++) if (this.matches(m, name, true)) (matches ??= []).push(m);
    if (!matches) return undefined;
    let winner = -1;
    for (const m of matches) if (!matches.some((e) => e < m && this.sameName(e, m))) winner = m;
    let last = winner;
    for (const m of matches) if (m > last && this.sameName(m, winner)) last = m;
    return this.value(last);
  }

  private sameName(a: number, b: number): boolean {
    return this.matches(a, this.name(b), false);
  }

  /** The last member whose name is `name` (ASCII letters in any case when `caseless`), or -1. */
  private find(name: string, caseless: boolean): number {
    for (let m = this.spans.length / 4 - 1; m >= 0; m--) if (this.matches(m, name, caseless)) return m;
    return -1;
  }

  private matches(m: number, name: string, caseless: boolean): boolean {
    const s = this.spans;
    const t = this.text;
    const start = s[4 * m]!;
    const len = name.length;
    if (s[4 * m + 1]! - start !== len) return false;
    for (let k = 0; k < len; k++) {
      const x = t.charCodeAt(start + k);
      const y = name.charCodeAt(k);
      if (x === y) continue;
      if (!caseless || (x | 32) !== (y | 32) || (x | 32) < 97 || (x | 32) > 122) return false;
    }
    return true;
  }

  private name(m: number): string {
    return this.text.slice(this.spans[4 * m]!, this.spans[4 * m + 1]!);
  }

  private value(m: number): string {
    const start = this.spans[4 * m + 2]!;
    const end = this.spans[4 * m + 3]!;
    const raw = this.text.slice(start, end);
    // Escapes were checked by the scan: JSON.parse of the quoted slice decodes them.
    return raw.includes('\\') ? (JSON.parse(this.text.slice(start - 1, end + 1)) as string) : raw;
  }
}
