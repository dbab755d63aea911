/**
 * The adapter's one inbound ESL connection (port 8021), used for `bgapi originate`, for the `api` commands that
 * list and inspect calls in progress (adoption), and for the channel events of adopted calls. Built on the `esl`
 * package's FreeSwitchClient, with the reconnect policy taken over:
 * - the library retries every 200 ms forever, even after a wrong password (it emits `error`, then `connect`,
 *   then reconnects). Here each attempt is a fresh client that is ended on any failure, and the next one waits
 *   a Backoff delay; a rejected password is logged as such.
 * - each attempt has its own response object, so handlers are attached once per connection and never stack.
 * - the library subscribes to CHANNEL_EXECUTE_COMPLETE for every channel on the switch; we do not need it, so it
 *   is dropped with `nixevent` (an overflowing listener gets disconnected).
 * - while calls are adopted (`watch`), the connection also takes the three events their end is read from
 *   (CHANNEL_HANGUP_COMPLETE, CHANNEL_BRIDGE, CHANNEL_UNBRIDGE), filtered to those channels (`filter Unique-ID`,
 *   plus `filter Event-Name BACKGROUND_JOB` so originate results still pass): every channel's would be ~30 KB of
 *   JSON per call at full rate. The subscription is rebuilt on each reconnect.
 * - a periodic `api status` with a timeout detects a switch that stopped answering.
 */
import { FreeSwitchClient, FreeSwitchError, type FreeSwitchResponse } from 'esl';
import type { Logger } from '../../observability/logger';
import { Backoff, withTimeout } from '../../util/backoff';
import type { FreeSwitchTimeouts } from './config';
import { eslLibraryLogger } from './esl-logger';
import { EslHeaders } from './headers';

/** The channel events the inbound connection subscribes to (for adopted calls). */
export const INBOUND_EVENTS = ['CHANNEL_HANGUP_COMPLETE', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE'] as const;
export type InboundEventName = (typeof INBOUND_EVENTS)[number];

/** An `api` command answered `-ERR ...` (e.g. `-ERR No such channel!`). */
export class InboundApiError extends Error {}

export class InboundNotConnectedError extends Error {
  constructor() {
    super('the inbound ESL connection to FreeSWITCH is down');
  }
}

function isPasswordRejection(err: unknown): boolean {
  if (!(err instanceof FreeSwitchError)) return false;
  const reply = typeof err.args.reply === 'string' ? err.args.reply : '';
  const command = typeof err.args.command === 'string' ? err.args.command : '';
  return reply.startsWith('-ERR invalid') && command.startsWith('auth');
}

/** A short description of a library error that never includes the command (it may hold the password). */
function describe(err: unknown): string {
  if (err instanceof FreeSwitchError) return `${String(err.args.when ?? 'error')}${typeof err.args.reply === 'string' ? `: ${err.args.reply}` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export class InboundEslClient {
  private client: FreeSwitchClient | undefined;
  private call: FreeSwitchResponse | undefined;
  private attempt = 0;
  private up = false;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private loginTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly eventListeners: Array<(name: InboundEventName, h: EslHeaders) => void> = [];
  private readonly connectedListeners: Array<() => void> = [];
  /** Channels whose events are wanted (adopted calls), and the queue that applies changes in order. */
  private readonly watched = new Set<string>();
  private watchQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: { host: string; port: number; password: string },
    private readonly timeouts: FreeSwitchTimeouts,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff({ initialMs: timeouts.reconnectInitialMs, maxMs: timeouts.reconnectMaxMs });
  }

  isConnected(): boolean {
    return this.up;
  }

  start(): void {
    this.stopped = false;
    this.connectNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.dropCurrent();
  }

  /** Channel events (INBOUND_EVENTS) of every channel, as they arrive on the current connection. */
  onEvent(listener: (name: InboundEventName, h: EslHeaders) => void): void {
    this.eventListeners.push(listener);
  }

  /** Each (re)connection, once subscribed: events may have been missed while it was down. */
  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  /** Delivers INBOUND_EVENTS of this channel from now on (and after reconnects) until unwatch. */
  async watch(uuid: string): Promise<void> {
    if (this.watched.has(uuid)) return;
    this.watched.add(uuid);
    const call = this.call;
    if (!this.up || !call) return; // applied at the next login
    await this.enqueueWatch(async () => {
      if (this.watched.size === 1) await call.filter('Event-Name', 'BACKGROUND_JOB');
      await call.filter('Unique-ID', uuid);
      if (this.watched.size === 1) await call.event_json(...INBOUND_EVENTS);
    });
  }

  unwatch(uuid: string): void {
    if (!this.watched.delete(uuid)) return;
    const call = this.call;
    if (!this.up || !call) return;
    void this.enqueueWatch(async () => {
      await call.filter_delete('Unique-ID', uuid);
      if (this.watched.size === 0) {
        await call.nixevent(...INBOUND_EVENTS);
        await call.filter_delete('Event-Name', 'BACKGROUND_JOB');
      }
    }).catch((err: Error) => this.log.warn({ err: err.message }, 'could not drop an event filter'));
  }

  private enqueueWatch(fn: () => Promise<void>): Promise<void> {
    const run = this.watchQueue.then(() => withTimeout(fn(), this.timeouts.commandMs * 3, 'event filter'));
    this.watchQueue = run.catch(() => undefined);
    return run;
  }

  /** Runs `api <command>` and returns its body; rejects with InboundApiError on a `-ERR` reply. */
  async api(command: string, timeoutMs: number): Promise<string> {
    const call = this.call;
    if (!this.up || !call) throw new InboundNotConnectedError();
    try {
      const res = await withTimeout(call.api(command, timeoutMs), timeoutMs + 1000, `api ${command.split(' ')[0]}`);
      return typeof res.body === 'string' ? res.body : '';
    } catch (err) {
      // The library rejects `-ERR` replies with a FreeSwitchError carrying the reply text.
      if (err instanceof FreeSwitchError && typeof err.args.reply === 'string') throw new InboundApiError(err.args.reply.trim());
      throw err;
    }
  }

  /** Runs `bgapi <command>` and returns the job's result body (e.g. "+OK <uuid>\n" or "-ERR NO_ANSWER\n"). */
  async bgapi(command: string, timeoutMs: number): Promise<string> {
    const call = this.call;
    if (!this.up || !call) throw new InboundNotConnectedError();
    const res = await withTimeout(call.bgapi(command, timeoutMs), timeoutMs + 1000, `bgapi ${command.split(' ')[0]}`);
    const body = res.body as Record<string, string | undefined>;
    return body._body ?? '';
  }

  private connectNow(): void {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const client = new FreeSwitchClient({ ...this.target, logger: eslLibraryLogger(this.log) });
    this.client = client;
    let settled = false;
    this.loginTimer = setTimeout(() => fail(`no login within ${this.timeouts.inboundLoginMs} ms`, false), this.timeouts.inboundLoginMs);
    const fail = (reason: string, passwordRejected: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(this.loginTimer);
      this.lost(attempt, reason, passwordRejected);
    };
    client.on('error', (err) => {
      if (isPasswordRejection(err)) {
        fail('FreeSWITCH rejected the ESL password (-ERR invalid): check inbound.password and event_socket.conf.xml', true);
      } else {
        fail(`inbound ESL login failed: ${describe(err)}`, false);
      }
    });
    // The library emits `connect` even after a failed login; only a clean login counts.
    client.on('connect', (call) => {
      if (settled || attempt !== this.attempt) return;
      settled = true;
      clearTimeout(this.loginTimer);
      void this.loggedIn(attempt, call);
    });
    // Emitted when the socket errors or the switch closes it: the library would retry in 200 ms; we take over.
    client.on('reconnecting', () => {
      if (!settled) fail('could not reach FreeSWITCH inbound ESL', false);
      else this.lost(attempt, 'inbound ESL connection lost', false);
    });
    client.connect();
  }

  private async loggedIn(attempt: number, call: FreeSwitchResponse): Promise<void> {
    try {
      await withTimeout(call.nixevent('CHANNEL_EXECUTE_COMPLETE'), this.timeouts.commandMs, 'nixevent');
      for (const name of INBOUND_EVENTS) {
        call.on(name, (res: { body: Record<string, string | undefined> }) => {
          if (attempt !== this.attempt) return;
          const h = new EslHeaders(res.body);
          for (const fn of this.eventListeners) {
            try {
              fn(name, h);
            } catch (err) {
              this.log.error({ err, event: name }, 'inbound event listener threw');
            }
          }
        });
      }
      if (this.watched.size > 0) {
        await withTimeout(call.filter('Event-Name', 'BACKGROUND_JOB'), this.timeouts.commandMs, 'filter');
        for (const uuid of this.watched) await withTimeout(call.filter('Unique-ID', uuid), this.timeouts.commandMs, 'filter');
        await withTimeout(call.event_json(...INBOUND_EVENTS), this.timeouts.commandMs, 'event json');
      }
    } catch (err) {
      this.lost(attempt, `inbound ESL subscription failed: ${describe(err)}`, false);
      return;
    }
    if (attempt !== this.attempt || this.stopped) return;
    this.call = call;
    this.up = true;
    this.backoff.reset();
    this.log.info({ host: this.target.host, port: this.target.port }, 'inbound ESL connected');
    this.heartbeat = setInterval(() => void this.ping(attempt, call), this.timeouts.heartbeatIntervalMs);
    this.heartbeat.unref();
    for (const fn of this.connectedListeners) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'inbound connected listener threw');
      }
    }
  }

  private async ping(attempt: number, call: FreeSwitchResponse): Promise<void> {
    try {
      await withTimeout(call.api('status', this.timeouts.heartbeatTimeoutMs), this.timeouts.heartbeatTimeoutMs, 'api status');
    } catch (err) {
      this.lost(attempt, `inbound ESL heartbeat failed: ${describe(err)}`, false);
    }
  }

  /** Ends the attempt and schedules the next one after a backoff delay. */
  private lost(attempt: number, reason: string, passwordRejected: boolean): void {
    if (attempt !== this.attempt) return;
    this.attempt++; // later callbacks of this attempt are stale
    this.dropCurrent();
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    const fields = { host: this.target.host, port: this.target.port, retryInMs: delayMs, attempts: this.backoff.attempts };
    if (passwordRejected) this.log.error(fields, reason);
    else this.log.warn(fields, reason);
    this.retryTimer = setTimeout(() => this.connectNow(), delayMs);
  }

  private dropCurrent(): void {
    this.up = false;
    clearTimeout(this.loginTimer);
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.call = undefined;
    const client = this.client;
    this.client = undefined;
    client?.end();
  }
}
