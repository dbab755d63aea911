/**
 * Event and channel-data headers as a read-only map. ESL header names are case-insensitive on the wire
 * (FreeSWITCH looks them up with strcasecmp), so lookups fall back to a case-insensitive match.
 */
export class EslHeaders {
  /** The header names, listed once for the case-insensitive lookups (see caseless). */
  private names: string[] | undefined;

  /**
   * `decode`: values are kept as received and decoded when read (the connect reply's ~160 URL-encoded values, of
   * which the leg reads a dozen).
   */
  constructor(
    private readonly raw: Readonly<Record<string, string | undefined>>,
    private readonly decode?: (value: string) => string,
  ) {}

  get(name: string): string | undefined {
    const exact = this.raw[name];
    if (exact !== undefined) return this.decode ? this.decode(exact) : exact;
    const found = this.caseless(name);
    return found !== undefined && this.decode ? this.decode(found) : found;
  }

  /**
   * The case-insensitive fallback, for a header that is absent (most misses are) or sent in another case. A scan
   * comparing lengths first, without allocating: building a lower-cased map of an event's ~150 headers for each
   * event that misses one lookup cost more than reading the event. The names are listed once per object: a
   * `for...in` per miss enumerated the keys of an object that large (in dictionary mode) anew each time, and was
   * 8.5% of the call node's busy time in a profile at 100 calls/s (a connect reply and an end event each miss ~10
   * lookups). The last match wins, as a map built in order would.
   */
  private caseless(name: string): string | undefined {
    const names = (this.names ??= Object.keys(this.raw));
    const n = name.length;
    let found: string | undefined;
    for (let i = 0; i < names.length; i++) {
      const k = names[i]!;
      if (k.length !== n || !sameIgnoringCase(k, name)) continue;
      const v = this.raw[k];
      if (v !== undefined) found = v;
    }
    return found;
  }

  /** A channel variable (`variable_<name>`). */
  variable(name: string): string | undefined {
    return this.get(`variable_${name}`);
  }

  /** A SIP header sofia stored on the channel (`variable_sip_h_<Name>`). */
  sipHeader(name: string): string | undefined {
    return this.get(`variable_sip_h_${name}`);
  }

  /**
   * The entries whose name starts with one of `prefixes` (lower case, ASCII), in any case, in the headers' order:
   * what `entries()` filtered by a lower-cased name gives, without copying every entry and lower-casing every name.
   */
  entriesStartingWith(prefixes: readonly string[]): Array<[string, string]> {
    const names = (this.names ??= Object.keys(this.raw));
    const out: Array<[string, string]> = [];
    for (let i = 0; i < names.length; i++) {
      const k = names[i]!;
      const v = this.raw[k];
      if (v !== undefined && prefixes.some((p) => k.length >= p.length && startsWithIgnoringCase(k, p))) out.push([k, this.decode ? this.decode(v) : v]);
    }
    return out;
  }

  /** Every entry, for logging or copying. */
  entries(): Array<[string, string]> {
    const all = Object.entries(this.raw).filter((e): e is [string, string] => e[1] !== undefined);
    const decode = this.decode;
    return decode ? all.map(([k, v]) => [k, decode(v)]) : all;
  }

  /** A FreeSWITCH microsecond timestamp header as a Date (undefined when absent or zero). */
  micros(name: string): Date | undefined {
    const v = this.get(name);
    if (!v || !/^\d+$/.test(v) || v === '0') return undefined;
    return new Date(Math.floor(Number(v) / 1000));
  }

  /** When the event was raised (Event-Date-Timestamp), or now. */
  eventTime(): Date {
    return this.micros('Event-Date-Timestamp') ?? new Date();
  }
}

/** ASCII case-insensitive equality of two strings of the same length (header names are ASCII). */
function sameIgnoringCase(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x | 32) !== (y | 32) || (x | 32) < 97 || (x | 32) > 122) return false;
  }
  return true;
}

/** Does `s` start with `prefix` (lower case), ASCII letters compared in any case? */
function startsWithIgnoringCase(s: string, prefix: string): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const x = s.charCodeAt(i);
    const y = prefix.charCodeAt(i);
    if (x === y) continue;
    if ((x | 32) !== y || y < 97 || y > 122) return false;
  }
  return true;
}
