/**
 * ESL framing for the outbound socket, in one pass over the received bytes: header lines up to a blank line, then
 * exactly Content-Length bytes of body. It also decides when to give up on a connection:
 * - a header block that never ends (garbage without a blank line),
 * - a Content-Length that is not a number or is absurdly large,
 * - a frame that started but did not finish within the stall time (a peer that stopped mid-frame).
 *
 * Why not the `esl` package's parser here: it concatenates the whole pending buffer on every chunk and builds a
 * message object plus a debug-log object per frame; at hundreds of calls per second it was a quarter of the
 * app's CPU (bench/cps.ts profile). Each frame's text is decoded once here and nowhere else; its header lines are
 * indexed in place (header-block.ts), not copied into an object.
 */
import { HeaderBlock } from './header-block';

export interface FrameLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  // The connect reply (CHANNEL_DATA) is a header-only frame of ~8 KB; SIP headers can make it larger.
  maxHeaderBytes: 256 * 1024,
  // FreeSWITCH refuses commands over 10 MB; its events are far smaller.
  maxBodyBytes: 10 * 1024 * 1024,
};

export class EslFrame {
  constructor(
    /** The header lines, read in place; values exactly as on the wire (not URL-decoded). */
    readonly head: HeaderBlock,
    /** The Content-Length bytes as UTF-8 text, when the frame has a body. */
    readonly body: string | undefined,
  ) {}

  /** The headers as an object (made on each call: the socket reads `head`). */
  get headers(): Record<string, string> {
    return this.head.toRecord();
  }
}

const LF = 0x0a;

/** Parses `Name: value` lines. A line without `: ` is a name with an empty value (as FreeSWITCH reads it). */
export function parseHeaderLines(text: string, decode = false): Record<string, string> {
  const headers: Record<string, string> = {};
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const sep = text.indexOf(': ', start);
      if (sep >= 0 && sep < end) {
        const value = text.slice(sep + 2, end);
        headers[text.slice(start, sep)] = decode ? unescapeValue(value) : value;
      } else {
        headers[text.slice(start, end)] = '';
      }
    }
    start = end + 1;
  }
  return headers;
}

/** FreeSWITCH URL-encodes header values; a malformed escape is kept as it is rather than failing the frame. */
export function unescapeValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

export class EslFramer {
  /** Bytes received but not yet framed, in arrival order (joined once a frame can complete). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Where to resume looking for the end of headers within the pending bytes. */
  private scanFrom = 0;
  /** The headers of a frame whose body is still arriving. */
  private headers: HeaderBlock | undefined;
  private bodyLength = 0;
  /** When the frame in progress started arriving (0 when between frames). */
  private partialSince = 0;
  private failure: string | undefined;

  constructor(private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS) {}

  /**
   * Feeds received bytes and calls `onFrame` for each complete frame, in order. Returns a reason when the
   * stream is malformed (the framer then stays failed and ignores further input).
   */
  feed(chunk: Buffer, onFrame: (frame: EslFrame) => void, now = Date.now()): string | undefined {
    if (this.failure) return this.failure;
    if (this.headers !== undefined && this.partsLength + chunk.length < this.bodyLength) {
      // A body still arriving: keep the pieces, join them once (a large body must not be copied per chunk).
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      return undefined;
    }
    const buf = this.partsLength > 0 ? Buffer.concat([...this.parts, chunk]) : chunk;
    let i = 0;
    for (;;) {
      if (this.headers === undefined) {
        while (i < buf.length && buf[i] === LF) i++; // blank lines between frames
        if (i >= buf.length) break;
        const end = buf.indexOf('\n\n', Math.max(i, this.scanFrom));
        if (end < 0) {
          if (buf.length - i > this.limits.maxHeaderBytes) return this.fail(`no end of headers after ${buf.length - i} bytes`);
          // the blank line may straddle this chunk and the next
          this.scanFrom = buf.length - 1;
          break;
        }
        this.scanFrom = 0;
        const headers = HeaderBlock.parse(buf.toString('utf8', i, end));
        i = end + 2;
        const length = headers.member('Content-Length');
        if (length === undefined) {
          onFrame(new EslFrame(headers, undefined));
          continue;
        }
        if (!/^\d+$/.test(length)) return this.fail(`bad Content-Length '${length.slice(0, 20)}'`);
        const n = Number(length);
        if (n > this.limits.maxBodyBytes) return this.fail(`Content-Length ${n} over the ${this.limits.maxBodyBytes} byte limit`);
        this.headers = headers;
        this.bodyLength = n;
      }
      if (buf.length - i < this.bodyLength) break;
      const frame = new EslFrame(this.headers, buf.toString('utf8', i, i + this.bodyLength));
      i += this.bodyLength;
      this.headers = undefined;
      this.bodyLength = 0;
      onFrame(frame);
    }
    if (i >= buf.length) {
      this.parts = [];
      this.partsLength = 0;
      this.scanFrom = 0;
    } else {
      this.scanFrom = Math.max(0, this.scanFrom - i);
      // a copy, so the socket's (possibly large) chunk is not kept alive by a small remainder
      this.parts = [Buffer.from(buf.subarray(i))];
      this.partsLength = buf.length - i;
    }
    this.partialSince = this.partsLength > 0 || this.headers !== undefined ? this.partialSince || now : 0;
    return undefined;
  }

  /** A reason when a frame has been incomplete for longer than `stallMs`. */
  stalled(stallMs: number, now = Date.now()): string | undefined {
    if (this.partialSince === 0 || now - this.partialSince < stallMs) return undefined;
    const missing = this.headers !== undefined ? `${this.bodyLength - this.partsLength} body bytes missing` : 'headers unfinished';
    return `frame incomplete for ${now - this.partialSince} ms (${missing})`;
  }

  private fail(reason: string): string {
    this.failure = reason;
    this.parts = [];
    this.partsLength = 0;
    return reason;
  }
}
