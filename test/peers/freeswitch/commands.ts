/**
 * Reading the app's commands off an ESL socket (mod_event_socket's read_packet): the first line is the command,
 * the following `Name: value` lines are its headers (looked up case-insensitively, as switch_event_get_header
 * does), and a Content-Length header brings a body.
 */
import { FrameReader, splitHeaderLine, type Header } from './wire';

export interface EslCommand {
  /** The command line, e.g. `sendmsg <uuid>` or `event json CHANNEL_ANSWER`. */
  line: string;
  headers: Header[];
  body: string | null;
}

/** Case-insensitive header lookup (switch_event_get_header is case-insensitive). */
export function header(cmd: EslCommand, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [h, v] of cmd.headers) if (h.toLowerCase() === lower) return v;
  return undefined;
}

export class CommandReader {
  private readonly reader = new FrameReader({ maxHeaderBytes: 10 * 1024 * 1024 });

  /** Throws FramingError on a stream that cannot be framed. */
  push(chunk: Buffer): EslCommand[] {
    return this.reader.push(chunk).map((frame) => {
      const [line = '', ...rest] = frame.lines;
      return {
        line: line.trim(),
        headers: rest.map(splitHeaderLine),
        body: frame.body ? frame.body.toString('utf8') : null,
      };
    });
  }
}

/** Splits an api argument string like switch_separate_string: spaces separate, quotes group (and are removed). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inToken = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inToken = true;
    } else if (ch === ' ') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}
