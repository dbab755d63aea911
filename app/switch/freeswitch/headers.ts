/**
 * Event and channel-data headers as a read-only map. ESL header names are case-insensitive on the wire
 * (FreeSWITCH looks them up with strcasecmp), so lookups fall back to a case-insensitive match.
 */
export class EslHeaders {
  private lower: Map<string, string> | undefined;

  constructor(private readonly raw: Readonly<Record<string, string | undefined>>) {}

  get(name: string): string | undefined {
    const exact = this.raw[name];
    if (exact !== undefined) return exact;
    if (!this.lower) {
      this.lower = new Map();
      for (const [k, v] of Object.entries(this.raw)) if (v !== undefined) this.lower.set(k.toLowerCase(), v);
    }
    return this.lower.get(name.toLowerCase());
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
