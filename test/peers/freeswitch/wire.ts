/**
 * ESL wire format as FreeSWITCH writes and reads it (mod_event_socket, switch_event_serialize):
 * `Name: value\n` lines, a blank line, then exactly Content-Length bytes of body when that header is present.
 * Used by the peer (writing frames, reading the app's commands) and by raw test clients (reading frames).
 */

export type Header = readonly [name: string, value: string];

/** The disconnect-notice body FreeSWITCH sends before closing a socket (67 bytes). */
export const GOODBYE_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

// SWITCH_URL_UNSAFE in switch_utils.h, plus anything below ' ' or above '~' (each UTF-8 byte).
const UNSAFE = new Uint8Array(256);
for (let b = 0; b < 256; b++) UNSAFE[b] = b < 0x20 || b > 0x7e ? 1 : 0;
for (const c of '\r\n #%&+:;<=>?@[\\]^`{|}"') UNSAFE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const isUpperHex = (b: number | undefined): boolean =>
  b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46));

/**
 * URL-encodes a header value the way switch_url_encode does: unsafe bytes become %XX (upper-case hex), and an
 * existing %XX escape (upper-case hex) is left alone rather than double-encoded.
 */
export function fsUrlEncode(value: string): string {
  // ASCII (the usual case): a character is its UTF-8 byte, so safe runs are copied as slices.
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7e) return fsUrlEncodeBytes(value);
    if (UNSAFE[c] !== 1) continue;
    if (c === 0x25 && isUpperHexCode(value.charCodeAt(i + 1)) && isUpperHexCode(value.charCodeAt(i + 2))) continue;
    out += `${value.slice(from, i)}%${HEX[c >> 4]}${HEX[c & 0x0f]}`;
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

const isUpperHexCode = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46);

/** fsUrlEncode over the UTF-8 bytes of a value with non-ASCII characters. */
function fsUrlEncodeBytes(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0x25 && isUpperHex(bytes[i + 1]) && isUpperHex(bytes[i + 2])) {
      out += '%';
      continue;
    }
    out += UNSAFE[b] === 1 ? `%${HEX[b >> 4]}${HEX[b & 0x0f]}` : String.fromCharCode(b);
  }
  return out;
}

/** Decodes %XX escapes (any case) as UTF-8; malformed escapes are kept as they are. */
export function fsUrlDecode(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `Name: value\n` lines, values written as given (callers encode first where FreeSWITCH does). */
export function headerLines(headers: readonly Header[]): string {
  let s = '';
  for (const [name, value] of headers) s += `${name}: ${value}\n`;
  return s;
}

/**
 * Rendered `name`/`value` pairs, kept per name and value: most of an event's headers and variables repeat from
 * one event and one call to the next (the switch's identity, codecs, SIP ports, the dialplan's variables), so each
 * is escaped once and the rendered text reused. A name that takes more than VALUES_PER_NAME distinct values (uuids,
 * timestamps, sequence numbers) stops keeping them and renders each time, from its rendered name kept once; memory
 * stays bounded.
 */
class RenderedPairs {
  private static readonly VALUES_PER_NAME = 32;
  private static readonly NAMES = 20_000;
  private readonly byName = new Map<string, { prefix: string; values: Map<string, string> | null }>();

  constructor(
    private readonly renderName: (name: string) => string,
    private readonly renderValue: (prefix: string, value: string) => string,
  ) {}

  get(name: string, value: string): string {
    let entry = this.byName.get(name);
    if (entry === undefined) {
      if (this.byName.size >= RenderedPairs.NAMES) return this.renderValue(this.renderName(name), value);
      this.byName.set(name, (entry = { prefix: this.renderName(name), values: new Map() }));
    }
    const values = entry.values;
    if (values === null) return this.renderValue(entry.prefix, value);
    let text = values.get(value);
    if (text === undefined) {
      text = this.renderValue(entry.prefix, value);
      if (values.size >= RenderedPairs.VALUES_PER_NAME) entry.values = null;
      else values.set(value, text);
    }
    return text;
  }
}

const plainValue = (prefix: string, value: string): string => `${prefix}${value === '' ? '_undef_' : fsUrlEncode(value)}\n`;
const jsonValue = (prefix: string, value: string): string => prefix + JSON.stringify(value);
const plainPairs = new RenderedPairs((name) => `${name}: `, plainValue);
const jsonPairs = new RenderedPairs((name) => `${JSON.stringify(name)}:`, jsonValue);
const plainVariables = new RenderedPairs((name) => `variable_${name}: `, plainValue);
const jsonVariables = new RenderedPairs((name) => `${JSON.stringify(`variable_${name}`)}:`, jsonValue);

/** URL-encoded `Name: value\n` lines as switch_event_serialize writes them (an empty value becomes `_undef_`). */
export function plainLines(headers: readonly Header[]): string {
  const lines = new Array<string>(headers.length);
  putPlainLines(lines, 0, headers);
  return lines.join('');
}

/** `"Name":"value"` members joined by commas (no braces), as switch_event_serialize_json writes them. */
export function jsonMembers(headers: readonly Header[]): string {
  const members = new Array<string>(headers.length);
  putJsonMembers(members, 0, headers);
  return members.join(',');
}

/*
 * An event is rendered as pieces into an array sized beforehand (no regrowing), then joined once. Each `put`
 * writes from index `at` and returns the next free index.
 */

/** Each header's plain line. */
export function putPlainLines(out: string[], at: number, headers: readonly Header[]): number {
  for (const [name, value] of headers) out[at++] = plainPairs.get(name, value);
  return at;
}

/** Each header's JSON member. */
export function putJsonMembers(out: string[], at: number, headers: readonly Header[]): number {
  for (const [name, value] of headers) out[at++] = jsonPairs.get(name, value);
  return at;
}

/** A channel's variables as `variable_<name>` lines (plain) or members (json), in their order. */
export function putVariables(out: string[], at: number, vars: ReadonlyMap<string, string>, format: 'plain' | 'json'): number {
  const pairs = format === 'plain' ? plainVariables : jsonVariables;
  for (const [name, value] of vars) out[at++] = pairs.get(name, value);
  return at;
}

/** The end of a plain event: a blank line, or its own Content-Length and body. */
export function plainTail(body?: string): string {
  if (body !== undefined && body.length > 0) return `Content-Length: ${Buffer.byteLength(body, 'utf8')}\n\n${body}`;
  return '\n';
}

/** The end of a JSON event's members: its Content-Length and `_body`, if it has a body. */
export function jsonBodyMembers(body?: string): string {
  if (body !== undefined && body.length > 0) return `"Content-Length":"${Buffer.byteLength(body, 'utf8')}","_body":${JSON.stringify(body)}`;
  return '';
}

export type EventFormat = 'plain' | 'json' | 'xml';

/**
 * The header block of an event frame (Content-Length first, then Content-Type) whose body is `serialized`; the
 * two are written one after the other, not copied into one string.
 */
export function eventFrameHead(format: EventFormat, serialized: string): string {
  return `Content-Length: ${Buffer.byteLength(serialized, 'utf8')}\nContent-Type: text/event-${format}\n\n`;
}

export function commandReply(replyText: string, extra: readonly Header[] = []): string {
  return `Content-Type: command/reply\nReply-Text: ${replyText}\n${headerLines(extra)}\n`;
}

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body, 'utf8')}\n\n${body}`;
}

export const AUTH_REQUEST = 'Content-Type: auth/request\n\n';

/** The notice sent when a socket closes; only outbound sockets name the session and the disposition. */
export function disconnectNotice(sessionUuid?: string): string {
  const head = sessionUuid
    ? `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${sessionUuid}\nContent-Disposition: disconnect\n`
    : 'Content-Type: text/disconnect-notice\n';
  return `${head}Content-Length: ${GOODBYE_BODY.length}\n\n${GOODBYE_BODY}`;
}

/** The notice an outbound socket gets when its channel hangs up while `linger` is on. */
export function lingerNotice(sessionUuid: string, channelName: string, lingerTime: number): string {
  return (
    `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${sessionUuid}\nContent-Disposition: linger\n` +
    `Channel-Name: ${channelName}\nLinger-Time: ${lingerTime}\nContent-Length: 0\n\n`
  );
}

/** One frame as read off the wire: header lines (in order) and the body, if Content-Length said so. */
export interface RawFrame {
  lines: string[];
  body: Buffer | null;
}

export class FramingError extends Error {}

/**
 * Incremental frame reader. Tolerates `\r\n` line ends and blank lines between frames, as mod_event_socket's
 * read_packet does. `maxHeaderBytes` and `maxBodyBytes` bound memory against a garbage or hostile stream.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private scanFrom = 0;
  private newlines = 0;
  private pendingLines: string[] | null = null;
  private bodyLength = 0;

  constructor(
    private readonly opts: { maxHeaderBytes?: number; maxBodyBytes?: number; contentLengthHeader?: RegExp } = {},
  ) {}

  /** Appends bytes and returns every frame now complete. Throws FramingError on an oversized or bad frame. */
  push(chunk: Buffer): RawFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: RawFrame[] = [];
    for (;;) {
      if (this.pendingLines) {
        if (this.buf.length < this.bodyLength) break;
        const body = this.buf.subarray(0, this.bodyLength);
        this.buf = this.buf.subarray(this.bodyLength);
        frames.push({ lines: this.pendingLines, body: Buffer.from(body) });
        this.pendingLines = null;
        continue;
      }
      // Skip blank lines between frames.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 0x0a || this.buf[start] === 0x0d)) start++;
      if (start > 0) {
        this.buf = this.buf.subarray(start);
        this.scanFrom = 0;
        this.newlines = 0;
      }
      const end = this.findHeaderEnd();
      if (end < 0) {
        if (this.buf.length > (this.opts.maxHeaderBytes ?? 1 << 20)) {
          throw new FramingError(`no end of headers within ${this.buf.length} bytes`);
        }
        break;
      }
      const text = this.buf.subarray(0, end).toString('utf8');
      this.buf = this.buf.subarray(end);
      this.scanFrom = 0;
      this.newlines = 0;
      const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l !== '');
      const length = this.contentLength(lines);
      if (length === null) {
        frames.push({ lines, body: null });
      } else {
        this.pendingLines = lines;
        this.bodyLength = length;
      }
    }
    return frames;
  }

  /** Bytes held that do not yet make a frame (a stalled or partial frame). */
  get buffered(): number {
    return this.buf.length;
  }

  private findHeaderEnd(): number {
    for (let i = this.scanFrom; i < this.buf.length; i++) {
      const b = this.buf[i];
      if (b === 0x0a) {
        this.newlines++;
        if (this.newlines === 2) return i + 1;
      } else if (b !== 0x0d) {
        this.newlines = 0;
      }
    }
    this.scanFrom = this.buf.length;
    return -1;
  }

  private contentLength(lines: string[]): number | null {
    const re = this.opts.contentLengthHeader ?? /^content-length:\s*(.*)$/i;
    for (const line of lines) {
      const m = re.exec(line);
      if (!m) continue;
      const raw = (m[1] ?? '').trim();
      if (!/^\d+$/.test(raw)) throw new FramingError(`bad Content-Length '${raw}'`);
      const n = Number(raw);
      if (n > (this.opts.maxBodyBytes ?? 10 * 1024 * 1024)) throw new FramingError(`Content-Length ${n} too large`);
      return n === 0 ? null : n;
    }
    return null;
  }
}

/** Splits `Name: value` (FreeSWITCH splits at the first ':' and skips spaces after it). */
export function splitHeaderLine(line: string): Header {
  const i = line.indexOf(':');
  if (i < 0) return [line, ''];
  return [line.slice(0, i), line.slice(i + 1).replace(/^ +/, '')];
}
