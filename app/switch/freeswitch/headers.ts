/**
 * Event and channel-data headers as a read-only map. ESL header names are case-insensitive on the wire
 * (FreeSWITCH looks them up with strcasecmp), so lookups fall back to a case-insensitive match.
 */
export class EslHeaders {
  constructor(private readonly raw: Readonly<Record<string, string | undefined>>) {}

  get(name: string): string | undefined {
    const exact = this.raw[name];
    if (exact !== undefined) return exact;
    return this.caseless(name);
  }

  /**
   * The case-insensitive fallback, for a header that is absent (most misses are) or sent in another case. A scan
   * comparing lengths first, without allocating: building a lower-cased map of an event's ~150 headers for each
   * event that misses one lookup cost more than reading the event. The last match wins, as a map built in order would.
   */
  private caseless(name: string): string | undefined {
    const n = name.length;
    let found: string | undefined;
    for (const k in this.raw) {
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

  /** Every entry, for logging or copying. */
  entries(): Array<[string, string]> {
    return Object.entries(this.raw).filter((e): e is [string, string] => e[1] !== undefined);
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
