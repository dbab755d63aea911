/**
 * Headers read in place from the text they arrived in, without a string or an object entry per header: for member
 * m, its name lies at [spans[4m], spans[4m+1]) of the text and its value at [spans[4m+2], spans[4m+3]). A value
 * becomes a string only when it is read (the leg reads a dozen of a channel's ~160). JSON events (json-event.ts)
 * and ESL header blocks (esl-framer.ts: the connect reply's channel data is ~160 lines) are read this way.
 *
 * Lookups answer what EslHeaders over the object built member by member (`o[name] = value`, in order: what
 * JSON.parse and a header-line parser build) answers: the last value of a name; else, among names equal in any
 * ASCII case, the one whose first member comes last (the object's key order), with its last value.
 *
 * After the first few lookups the members are indexed by name length (a counting sort: no name is read to build it),
 * since only names of the query's length can match in any case; a lookup compares a few names instead of all of them.
 * Positions are kept in plain arrays of small integers: a typed array's separate backing store cost more to
 * allocate and collect than the young-generation array.
 */
import { EslHeaders } from './headers';

const NONE: Readonly<Record<string, string>> = Object.freeze({});
/** Names this long or longer share the last length bucket (the comparison checks the exact length anyway). */
const LENGTH_BUCKETS = 64;
/**
 * The first lookups search from end to end; the index is built for the next ones. Building it costs about as much
 * as three searches of a channel's ~160 members: a frame's own headers are looked up three times (Content-Length,
 * Content-Type, Event-Name), a connect reply's channel data ~25 times, an event ~5-15 times.
 */
const SEARCHES_BEFORE_INDEX = 3;

/**
 * Gathers a message's positions in one array reused from message to message, and hands them out at their exact
 * size: an array grown member by member for each message was copied ~8 times on the way to an event's ~650 positions
 * (bench:esl-read: 60% more young-generation collections than the typed arrays it replaced).
 */
export class SpanCollector {
  private readonly scratch: number[] = [];
  private n = 0;

  start(): void {
    this.n = 0;
  }

  add(nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    const s = this.scratch;
    const n = this.n;
    if (n < s.length) {
      s[n] = nameStart;
      s[n + 1] = nameEnd;
      s[n + 2] = valueStart;
      s[n + 3] = valueEnd;
    } else s.push(nameStart, nameEnd, valueStart, valueEnd);
    this.n = n + 4;
  }

  /** The positions added since start(), in a new array. */
  take(): number[] {
    return this.scratch.slice(0, this.n);
  }
}

export abstract class SpanHeaders extends EslHeaders {
  /** Member numbers ordered by name-length bucket (in member order within one), and where each bucket starts. */
  private order: number[] | undefined;
  private bucketStart: number[] | undefined;
  private searches = 0;

  constructor(
    protected readonly text: string,
    protected readonly spans: readonly number[],
  ) {
    super(NONE);
  }

  /** Member m's value as the caller sees it (decoded). */
  protected abstract value(m: number): string;

  get count(): number {
    return this.spans.length >> 2;
  }

  override get(name: string): string | undefined {
    const exact = this.find(name);
    return exact >= 0 ? this.value(exact) : this.caselessValue(name);
  }

  /** The member named so (exact case), the last of that name: what the object holds under that key. */
  member(name: string): string | undefined {
    const m = this.find(name);
    return m >= 0 ? this.value(m) : undefined;
  }

  override entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const seen = new Map<string, number>();
    // One entry per name, at its first place, with its last value: what Object.entries of the object gives
    // (but for names that are array indices, which an object lists first; FreeSWITCH's names never are).
    for (let m = 0; m < this.count; m++) {
      const name = this.name(m);
      const at = seen.get(name);
      if (at === undefined) {
        seen.set(name, out.length);
        out.push([name, this.value(m)]);
      } else out[at]![1] = this.value(m);
    }
    return out;
  }

  /** As entries() filtered by prefix (lower case, ASCII letters in any case), making strings only for the matches. */
  override entriesStartingWith(prefixes: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    let seen: Set<string> | undefined;
    for (let m = 0; m < this.count; m++) {
      let match = false;
      for (let p = 0; p < prefixes.length && !match; p++) match = this.startsWith(m, prefixes[p]!);
      if (!match) continue;
      const name = this.name(m);
      if (seen?.has(name)) continue;
      (seen ??= new Set()).add(name);
      out.push([name, this.value(this.find(name))]);
    }
    return out;
  }

  protected name(m: number): string {
    return this.text.slice(this.spans[4 * m]!, this.spans[4 * m + 1]!);
  }

  protected rawValue(m: number): string {
    return this.text.slice(this.spans[4 * m + 2]!, this.spans[4 * m + 3]!);
  }

  /** The last member whose name is exactly `name`, or -1. */
  private find(name: string): number {
    const len = name.length;
    if (this.order === undefined && this.searches++ < SEARCHES_BEFORE_INDEX) {
      for (let m = this.count - 1; m >= 0; m--) if (this.matches(m, name, false)) return m;
      return -1;
    }
    const [order, starts] = this.index();
    const b = len < LENGTH_BUCKETS ? len : LENGTH_BUCKETS;
    for (let k = starts[b + 1]! - 1; k >= starts[b]!; k--) if (this.matches(order[k]!, name, false)) return order[k]!;
    return -1;
  }

  /**
   * The fallback over the object: among the names equal to `name` in any case, the one whose first member comes last
   * in the text (the object's key order), with its last value. Misses allocate nothing.
   */
  private caselessValue(name: string): string | undefined {
    let matches: number[] | undefined;
    if (this.order === undefined) {
      // (find, just before, built the index unless it searched from end to end)
      for (let m = 0; m < this.count; m++) if (this.matches(m, name, true)) (matches ??= []).push(m);
    } else {
      const [order, starts] = this.index();
      const b = name.length < LENGTH_BUCKETS ? name.length : LENGTH_BUCKETS;
      for (let k = starts[b]!; k < starts[b + 1]!; k++) if (this.matches(order[k]!, name, true)) (matches ??= []).push(order[k]!);
    }
    if (!matches) return undefined;
    let winner = -1;
    for (const m of matches) if (!matches.some((e) => e < m && this.sameName(e, m))) winner = m;
    let last = winner;
    for (const m of matches) if (m > last && this.sameName(m, winner)) last = m;
    return this.value(last);
  }

  private index(): [number[], number[]] {
    if (this.order && this.bucketStart) return [this.order, this.bucketStart];
    const s = this.spans;
    const count = this.count;
    const starts = new Array<number>(LENGTH_BUCKETS + 2).fill(0);
    for (let m = 0; m < count; m++) {
      const len = s[4 * m + 1]! - s[4 * m]!;
      starts[(len < LENGTH_BUCKETS ? len : LENGTH_BUCKETS) + 1]!++;
    }
    for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
    const order = new Array<number>(count).fill(0);
    const next = starts.slice(0, LENGTH_BUCKETS + 1);
    for (let m = 0; m < count; m++) {
      const len = s[4 * m + 1]! - s[4 * m]!;
      order[next[len < LENGTH_BUCKETS ? len : LENGTH_BUCKETS]!++] = m;
    }
    this.order = order;
    this.bucketStart = starts;
    return [order, starts];
  }

  private sameName(a: number, b: number): boolean {
    const s = this.spans;
    const len = s[4 * a + 1]! - s[4 * a]!;
    if (s[4 * b + 1]! - s[4 * b]! !== len) return false;
    const t = this.text;
    for (let k = 0; k < len; k++) if (t.charCodeAt(s[4 * a]! + k) !== t.charCodeAt(s[4 * b]! + k)) return false;
    return true;
  }

  /**
   * Is member m's name `name` (ASCII letters in any case when `caseless`)? Compared from the end: FreeSWITCH's names
   * of one length mostly share their start (`variable_`, `Caller-`), so the end tells them apart sooner.
   */
  protected matches(m: number, name: string, caseless: boolean): boolean {
    const s = this.spans;
    const t = this.text;
    const start = s[4 * m]!;
    const len = name.length;
    if (s[4 * m + 1]! - start !== len) return false;
    for (let k = len - 1; k >= 0; k--) {
      const x = t.charCodeAt(start + k);
      const y = name.charCodeAt(k);
      if (x === y) continue;
      if (!caseless || (x | 32) !== (y | 32) || (x | 32) < 97 || (x | 32) > 122) return false;
    }
    return true;
  }

  /**
   * Does member m's name start with `prefix` (lower case), ASCII letters compared in any case? From the prefix's end,
   * as in matches: most names share the start of `variable_sip_h_x-`.
   */
  private startsWith(m: number, prefix: string): boolean {
    const s = this.spans;
    const start = s[4 * m]!;
    if (s[4 * m + 1]! - start < prefix.length) return false;
    for (let k = prefix.length - 1; k >= 0; k--) {
      const x = this.text.charCodeAt(start + k);
      const y = prefix.charCodeAt(k);
      if (x === y) continue;
      if ((x | 32) !== y || y < 97 || y > 122) return false;
    }
    return true;
  }
}
