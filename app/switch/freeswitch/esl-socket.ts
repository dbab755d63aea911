/**
 * One outbound ESL connection (FreeSWITCH's `socket` application connected to us), on top of the `esl`
 * package's FreeSwitchResponse for parsing and writing. This module and inbound-client.ts are the only ones that
 * know `esl`, so it can be swapped.
 *
 * Why not esl's FreeSwitchServer: it hides the socket, so a connection that stalls or sends garbage during its
 * handshake could not be closed (it only emits `error` and leaks the socket); its commands wait 10 s by default
 * and are sent one at a time. Here every command has an explicit timeout, replies are matched in order (ESL
 * replies strictly in order), and the handshake is pipelined.
 */
import type { Socket } from 'node:net';
import { FreeSwitchResponse } from 'esl';
import type { Logger } from '../../observability/logger';
import { FrameGuard } from './frame-guard';
import { EslHeaders } from './headers';
import { eslLibraryLogger } from './esl-logger';

/**
 * The only events the adapter reads on a call's socket: each one costs the switch and us several KB of JSON,
 * and FreeSWITCH drops listeners whose queue overflows. Answer and bridge times come from CHANNEL_BRIDGE and the
 * final variables, and with linger CHANNEL_HANGUP_COMPLETE always follows a hangup, so CHANNEL_ANSWER and
 * CHANNEL_HANGUP are not needed (the leg still understands CHANNEL_HANGUP if it comes).
 */
export const CALL_EVENTS = [
  'CHANNEL_BRIDGE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_HANGUP_COMPLETE',
] as const;
export type CallEventName = (typeof CALL_EVENTS)[number] | 'CHANNEL_HANGUP';

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

type LibMessage = { headers: Record<string, string | undefined>; body: unknown };

export class EslSocket {
  private readonly res: FreeSwitchResponse;
  private readonly guard = new FrameGuard();
  private readonly pending: Pending[] = [];
  private closedReason: string | undefined;
  private corked = false;
  /** Events that arrive before the leg is attached (e.g. in the same packet as the subscription reply). */
  private early: Array<[CallEventName, EslHeaders]> | undefined = [];
  private eventHandler: (name: CallEventName, h: EslHeaders) => void = (name, h) => this.early?.push([name, h]);
  private noticeHandler: (disposition: string) => void = () => undefined;
  private closeHandlers: Array<(reason: string) => void> = [];

  constructor(
    private readonly socket: Socket,
    private log: Logger,
  ) {
    // Our guard sees each chunk before the library's parser does.
    socket.on('data', (chunk: Buffer) => {
      const bad = this.guard.feed(chunk);
      if (bad) this.close(`malformed ESL input: ${bad}`);
    });
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'esl socket error'));
    socket.on('close', () => this.closed(this.closedReason ?? 'connection closed by the switch'));
    this.res = new FreeSwitchResponse(socket, eslLibraryLogger(log));
    const safe = <T>(what: string, fn: (arg: T) => void) => (arg: T): void => {
      try {
        fn(arg);
      } catch (err) {
        this.log.error({ err, what }, 'error while handling ESL input');
        this.close(`error while handling ${what}: ${(err as Error).message}`);
      }
    };
    this.res.on('freeswitch_command_reply', safe('command/reply', (m: LibMessage) => this.reply('command', m)));
    this.res.on('freeswitch_api_response', safe('api/response', (m: LibMessage) => this.reply('api', m)));
    this.res.on('freeswitch_disconnect_notice', safe('disconnect-notice', (m: LibMessage) => {
      this.noticeHandler(m.headers['Content-Disposition'] ?? 'disconnect');
    }));
    for (const name of CALL_EVENTS) {
      this.res.on(name, safe(name, (m: LibMessage) => this.eventHandler(name, new EslHeaders(m.body as Record<string, string>))));
    }
    const malformed = (kind: string) => (err: unknown): void => this.close(`malformed ESL input: ${kind} (${String(err).slice(0, 200)})`);
    this.res.on('error.missing-content-type', malformed('frame without Content-Type'));
    this.res.on('error.unhandled-content-type', malformed('unknown Content-Type'));
    this.res.on('error.invalid-json', malformed('invalid JSON event'));
    this.res.on('error.missing-event-name', malformed('event without a known Event-Name'));
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Adds fields (e.g. the call's uuid) to this connection's log lines. */
  setLogger(log: Logger): void {
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
    const stalled = this.guard.stalled(stallMs);
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
    for (const [k, v] of [[line, ''], ...Object.entries(headers)] as Array<[string, string]>) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) return Promise.reject(new EslCommandError(`refusing a line break in '${line}'`));
    }
    return new Promise<PendingReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Replies come in order: a missing one leaves the connection unusable.
        this.close(`no reply to '${line.slice(0, 60)}' within ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending.push({ kind, what: line, resolve, reject, timer });
      // Commands issued in the same turn (a pipelined handshake, multiset + bridge) leave in one packet.
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      void this.res.write(line, headers).catch((err: unknown) => this.close(`write failed: ${String(err)}`));
    });
  }

  private reply(kind: Pending['kind'], m: LibMessage): void {
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
    const headers = new EslHeaders(m.headers);
    if (kind === 'api') {
      p.resolve({ headers, body: typeof m.body === 'string' ? m.body : '' });
      return;
    }
    const text = headers.get('Reply-Text') ?? '';
    if (text.startsWith('-')) {
      p.reject(new EslCommandError(`'${p.what}' failed: ${text}`));
      return;
    }
    const data = m.body && typeof m.body === 'object' ? new EslHeaders(m.body as Record<string, string>) : undefined;
    p.resolve(data ? { headers, data } : { headers });
  }

  /** Closes the connection, logging why (at `level`), and fails whatever is pending. */
  close(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.closedReason === undefined) {
      this.closedReason = reason;
      this.log[level]({ remote: this.remote, reason }, 'closing ESL connection');
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
