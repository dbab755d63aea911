/**
 * One outbound ESL connection (FreeSWITCH's `socket` application connected to us): frames parsed by EslFramer,
 * commands written as ESL text. The inbound connection (inbound-client.ts) keeps the `esl` package.
 *
 * Why not esl's FreeSwitchServer: it hides the socket, so a connection that stalls or sends garbage during its
 * handshake could not be closed (it only emits `error` and leaks the socket); its commands wait 10 s by default
 * and are sent one at a time; and its parser cost a quarter of the CPU at a few hundred calls per second. Here
 * every command has an explicit timeout, replies are matched in order (ESL replies strictly in order), and the
 * handshake is pipelined.
 */
import type { Socket } from 'node:net';
import type { CallLogger } from '../../observability/logger';
import { EslFramer, parseHeaderLines, unescapeValue, type EslFrame } from './esl-framer';
import type { HeaderBlock } from './header-block';
import { EslHeaders } from './headers';
import { jsonEventHeaders } from './json-event';

/**
 * The only events the adapter reads on a call's socket: each one costs the switch and us several KB of JSON,
 * and FreeSWITCH drops listeners whose queue overflows. Answer and bridge times come from CHANNEL_BRIDGE and the
 * channel's times, and the end from the `socket` application's own CHANNEL_EXECUTE_COMPLETE: with linger it
 * follows every hangup, carries Hangup-Cause, the channel's times and a received hangup's
 * sip_hangup_disposition, and its timestamp is the channel's end_uepoch (recordings A, B, D, I). So neither
 * CHANNEL_HANGUP nor CHANNEL_HANGUP_COMPLETE (the largest event, ~12 KB) is needed; the leg still understands
 * both if a switch sends them.
 */
export const CALL_EVENTS = [
  'CHANNEL_BRIDGE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_EXECUTE_COMPLETE',
] as const;
export type CallEventName = (typeof CALL_EVENTS)[number] | 'CHANNEL_HANGUP' | 'CHANNEL_HANGUP_COMPLETE';

export class EslCommandError extends Error {}

interface Pending {
  kind: 'command' | 'api';
  what: string;
  resolve(v: PendingReply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface PendingReply {
  headers: EslHeaders;
  /** command/reply: the channel data (connect) or nothing; api/response: the body text. */
  data?: EslHeaders;
  body?: string;
}

const OUR_EVENTS: ReadonlySet<string> = new Set<string>([...CALL_EVENTS, 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE']);
/** The headers FreeSWITCH appends to the CHANNEL_DATA of the outbound `connect` reply; the rest is channel data. */
const CONNECT_REPLY_HEADERS = new Set(['Content-Type', 'Reply-Text', 'Socket-Mode', 'Control']);
const LINE_BREAK = /[\r\n]/;

export class EslSocket {
  private readonly framer = new EslFramer();
  private readonly pending: Pending[] = [];
  private closedReason: string | undefined;
  /** Commands of this turn not yet written: one string and one write (a corked socket's writev made arrays per batch). */
  private outgoing = '';
  private readonly flush = (): void => {
    const text = this.outgoing;
    this.outgoing = '';
    if (!this.socket.destroyed) this.socket.write(text);
  };
  /** Events that arrive before the leg is attached (e.g. in the same packet as the subscription reply). */
  private early: Array<[CallEventName, EslHeaders]> | undefined = [];
  private eventHandler: (name: CallEventName, h: EslHeaders) => void = (name, h) => this.early?.push([name, h]);
  private noticeHandler: (disposition: string) => void = () => undefined;
  private closeHandlers: Array<(reason: string) => void> = [];

  constructor(
    private readonly socket: Socket,
    private log: CallLogger,
  ) {
    const onFrame = (frame: EslFrame): void => this.frame(frame);
    socket.on('data', (chunk: Buffer) => {
      try {
        const bad = this.framer.feed(chunk, onFrame);
        if (bad) this.close(`malformed ESL input: ${bad}`);
      } catch (err) {
        this.log.error({ err }, 'error while handling ESL input');
        this.close(`error while handling ESL input: ${(err as Error).message}`);
      }
    });
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'esl socket error'));
    socket.on('close', () => this.closed(this.closedReason ?? 'connection closed by the switch'));
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Adds fields (e.g. the call's uuid) to this connection's log lines. */
  setLogger(log: CallLogger): void {
    this.log = log;
  }

  onEvent(fn: (name: CallEventName, h: EslHeaders) => void): void {
    this.eventHandler = fn;
    const early = this.early ?? [];
    this.early = undefined;
    for (const [name, h] of early) fn(name, h);
  }

  onNotice(fn: (disposition: string) => void): void {
    this.noticeHandler = fn;
  }

  onClose(fn: (reason: string) => void): void {
    if (this.closedReason !== undefined && this.socket.destroyed) fn(this.closedReason);
    else this.closeHandlers.push(fn);
  }

  /** A frame stuck half-sent for too long closes the connection. Called by the server's sweep. */
  checkStall(stallMs: number): void {
    const stalled = this.framer.stalled(stallMs);
    if (stalled) this.close(`stalled ESL peer: ${stalled}`);
  }

  /** Sends a command; resolves with its command/reply, rejects on `-ERR`, timeout or close. */
  command(line: string, headers: Record<string, string> = {}, timeoutMs: number): Promise<PendingReply> {
    return this.send('command', line, headers, timeoutMs);
  }

  /** `api <cmd>` on this connection; resolves with the api/response body. */
  async api(cmd: string, timeoutMs: number): Promise<string> {
    const r = await this.send('api', `api ${cmd}`, {}, timeoutMs);
    return r.body ?? '';
  }

  /** sendmsg execute <app> <arg>; FreeSWITCH replies +OK at once and runs the app in order. */
  execute(uuid: string, app: string, arg: string | undefined, eventUuid: string, timeoutMs: number): Promise<PendingReply> {
    const headers: Record<string, string> = { 'call-command': 'execute', 'execute-app-name': app };
    if (arg !== undefined && arg !== '') headers['execute-app-arg'] = arg;
    headers['event-uuid'] = eventUuid;
    return this.command(`sendmsg ${uuid}`, headers, timeoutMs);
  }

  hangup(uuid: string, cause: string, timeoutMs: number): Promise<PendingReply> {
    return this.command(`sendmsg ${uuid}`, { 'call-command': 'hangup', 'hangup-cause': cause }, timeoutMs);
  }

  /** Sends `exit` and closes after the reply (or the timeout). */
  exit(timeoutMs: number): void {
    if (this.isClosed) return;
    this.command('exit', {}, timeoutMs)
      .catch(() => undefined)
      .finally(() => this.close('exit after the call ended', 'debug'));
  }

  private send(kind: Pending['kind'], line: string, headers: Record<string, string>, timeoutMs: number): Promise<PendingReply> {
    if (this.closedReason !== undefined) return Promise.reject(new EslCommandError(`connection closed (${this.closedReason})`));
    // The command's text, refused whole if any part holds a line break (it would end the command early).
    let text = `${line}\n`;
    let bad = LINE_BREAK.test(line);
    for (const name in headers) {
      const value = headers[name]!;
      bad ||= LINE_BREAK.test(name) || LINE_BREAK.test(value);
      text += `${name}: ${value}\n`;
    }
    if (bad) return Promise.reject(new EslCommandError(`refusing a line break in '${line}'`));
    return new Promise<PendingReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Replies come in order: a missing one leaves the connection unusable.
        this.close(`no reply to '${line.slice(0, 60)}' within ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending.push({ kind, what: line, resolve, reject, timer });
      // Commands issued in the same turn (a pipelined handshake, uuid_setvar_multi + bridge) leave in one write.
      if (this.outgoing === '') process.nextTick(this.flush);
      this.outgoing += `${text}\n`;
    });
  }

  /** One frame from the switch, by Content-Type. */
  private frame(f: EslFrame): void {
    if (this.closedReason !== undefined) return;
    const type = f.head.member('Content-Type');
    switch (type) {
      case 'text/event-json':
        this.jsonEvent(f.body ?? '');
        return;
      case 'command/reply':
        this.reply('command', f.head, undefined);
        return;
      case 'api/response':
        this.reply('api', f.head, f.body ?? '');
        return;
      case 'text/event-plain': {
        const values = parseHeaderLines(f.body ?? '', true);
        this.event(values['Event-Name'], values);
        return;
      }
      case 'text/disconnect-notice':
        this.noticeHandler(f.head.member('Content-Disposition') ?? 'disconnect');
        return;
      case 'auth/request':
      case 'log/data':
        return;
      case 'text/rude-rejection':
        this.close(`rejected by the switch: ${(f.body ?? '').trim().slice(0, 200)}`);
        return;
      case undefined:
        this.close('malformed ESL input: frame without Content-Type');
        return;
      default:
        this.close(`malformed ESL input: unknown Content-Type '${type.slice(0, 60)}'`);
    }
  }

  private jsonEvent(body: string): void {
    // FreeSWITCH's own form, read in place (json-event.ts); anything else goes through JSON.parse and its checks.
    const fast = jsonEventHeaders(body);
    if (fast) {
      this.event(fast.member('Event-Name'), fast);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      try {
        // a raw control character inside a value is the one flaw worth forgiving
        parsed = JSON.parse(body.replace(/[\x00-\x1F\x7F]/g, ''));
      } catch {
        this.close(`malformed ESL input: invalid JSON event (${(err as Error).message.slice(0, 200)})`);
        return;
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.close('malformed ESL input: JSON event is not an object');
      return;
    }
    const values = parsed as Record<string, string>;
    this.event(values['Event-Name'], values);
  }

  /** An event's headers: read in place (JSON events), or the values to wrap once the event is known to be ours. */
  private event(name: unknown, headers: EslHeaders | Record<string, string>): void {
    if (typeof name !== 'string' || name === '') {
      this.close('malformed ESL input: event without a known Event-Name');
      return;
    }
    // Events of other kinds (a switch that ignores the subscription list) are not ours to read.
    if (!OUR_EVENTS.has(name)) return;
    this.eventHandler(name as CallEventName, headers instanceof EslHeaders ? headers : new EslHeaders(headers));
  }

  private reply(kind: Pending['kind'], head: HeaderBlock, body: string | undefined): void {
    const p = this.pending.shift();
    if (!p) {
      this.close(`unexpected ${kind === 'api' ? 'api/response' : 'command/reply'} with nothing pending`);
      return;
    }
    clearTimeout(p.timer);
    if (p.kind !== kind) {
      p.reject(new EslCommandError(`'${p.what}' got an ${kind} reply`));
      this.close(`reply of the wrong kind to '${p.what}'`);
      return;
    }
    if (kind === 'api') {
      p.resolve({ headers: head, body: body ?? '' });
      return;
    }
    // The outbound connect reply is the channel data, every value URL-encoded (Reply-Text too: `%2BOK%0A`). Both
    // parts are read in place over the frame's text, values decoded as they are read: the leg reads a dozen of ~160.
    if (head.member('Event-Name') === 'CHANNEL_DATA') {
      const [headers, data] = head.split(CONNECT_REPLY_HEADERS, unescapeValue);
      p.resolve({ headers, data });
      return;
    }
    const text = head.get('Reply-Text') ?? '';
    if (text.startsWith('-')) {
      p.reject(new EslCommandError(`'${p.what}' failed: ${text}`));
      return;
    }
    p.resolve({ headers: head });
  }

  /** Closes the connection, logging why (at `level`), and fails whatever is pending. */
  close(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.closedReason === undefined) {
      this.closedReason = reason;
      // Every call's connection closes at its end (at debug): the peer's address is a system call, so only for warnings.
      if (level === 'warn') this.log.warn({ remote: this.remote, reason }, 'closing ESL connection');
      else this.log.debug({ reason }, 'closing ESL connection');
    }
    this.socket.destroy();
  }

  private closed(reason: string): void {
    this.closedReason ??= reason;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new EslCommandError(`connection closed (${reason}) before a reply to '${p.what}'`));
    }
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const fn of handlers) {
      try {
        fn(reason);
      } catch (err) {
        this.log.error({ err }, 'error in an ESL close handler');
      }
    }
  }
}
