/**
 * Watches the bytes of one ESL connection for input that cannot be framed, without parsing events: it finds
 * each header block's end, reads Content-Length, and skips bodies by count. The ESL library parses the same
 * bytes; this guard only decides when to give up on the connection:
 * - a header block that never ends (garbage without a blank line),
 * - a Content-Length that is not a number or is absurdly large,
 * - a frame that started but did not finish within the stall time (a peer that stopped mid-frame).
 */

export interface FrameGuardLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameGuardLimits = {
  // The connect reply (CHANNEL_DATA) is a header-only frame of ~8 KB; SIP headers can make it larger.
  maxHeaderBytes: 256 * 1024,
  // FreeSWITCH refuses commands over 10 MB; its events are far smaller.
  maxBodyBytes: 10 * 1024 * 1024,
};

const CONTENT_LENGTH = /^content-length:[ \t]*(.*?)[ \t\r]*$/im;

export class FrameGuard {
  private header = '';
  private bodyLeft = 0;
  /** When the frame in progress started arriving (0 when between frames). */
  private partialSince = 0;
  private failure: string | undefined;

  constructor(private readonly limits: FrameGuardLimits = DEFAULT_FRAME_LIMITS) {}

  /** Feeds received bytes; returns a reason when the stream is malformed (then it stays failed). */
  feed(chunk: Buffer, now = Date.now()): string | undefined {
    if (this.failure) return this.failure;
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        continue;
      }
      // Reading headers: look for the blank line that ends them (it may straddle two chunks).
      let block: string;
      if (this.header.endsWith('\n') && chunk[i] === 0x0a) {
        block = this.header.slice(0, -1);
        i += 1;
      } else {
        const idx = chunk.indexOf('\n\n', i);
        if (idx < 0) {
          this.header += chunk.toString('latin1', i);
          if (this.header.length > this.limits.maxHeaderBytes) {
            return this.fail(`no end of headers after ${this.header.length} bytes`);
          }
          break;
        }
        block = this.header + chunk.toString('latin1', i, idx);
        i = idx + 2;
      }
      this.header = '';
      if (block.replace(/\n/g, '') === '') continue; // blank lines between frames
      const m = CONTENT_LENGTH.exec(block);
      if (m) {
        const raw = m[1] ?? '';
        if (!/^\d+$/.test(raw)) return this.fail(`bad Content-Length '${raw.slice(0, 20)}'`);
        const n = Number(raw);
        if (n > this.limits.maxBodyBytes) return this.fail(`Content-Length ${n} over the ${this.limits.maxBodyBytes} byte limit`);
        this.bodyLeft = n;
      }
    }
    this.partialSince = this.bodyLeft > 0 || this.header.length > 0 ? this.partialSince || now : 0;
    return undefined;
  }

  /** A reason when a frame has been incomplete for longer than `stallMs`. */
  stalled(stallMs: number, now = Date.now()): string | undefined {
    if (this.partialSince === 0 || now - this.partialSince < stallMs) return undefined;
    return `frame incomplete for ${now - this.partialSince} ms (${this.bodyLeft > 0 ? `${this.bodyLeft} body bytes missing` : 'headers unfinished'})`;
  }

  private fail(reason: string): string {
    this.failure = reason;
    return reason;
  }
}
