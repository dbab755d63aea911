/**
 * A channel under outbound-socket control (`socket host:port async full`): FreeSWITCH connects to the app,
 * answers `connect` with the channel data, runs the applications the app sends with `sendmsg`, and reports them
 * with CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE. Hangup, linger, the disconnect notice and the order of the
 * closing events follow the recorded FreeSWITCH 1.10.12 sessions.
 */
import { randomUUID } from 'node:crypto';
import { Socket, connect } from 'node:net';
import { PeerChannel, Q850, dialStatus, hangupCauseToSip, localStamp, nowMicros, switchTrue } from './channel';
import { header, type EslCommand } from './commands';
import type { PeerCore } from './core';
import { endpointUser, parseDialString } from './dial-string';
import type { EventFrame } from './event-bus';
import { EslListener, MYEVENTS_NAMES } from './listener';
import { Originate, hangupOutgoingLeg } from './originate';
import { lingerNotice, type Header } from './wire';

export type HangupBy = 'caller' | 'app' | 'switch' | 'buyer' | 'killed' | 'dialplan' | 'park_timeout';

export interface BridgeAttempt {
  dialString: string;
  target?: string;
  /** SUCCESS or the failure cause. */
  result: string;
  startedAt: number;
  bridgedAt?: number;
  endedAt?: number;
  /** Who ended a successful bridge. */
  endedBy?: 'caller' | 'buyer';
}

/** What happened to one call, for assertions. */
export interface CallRecord {
  uuid: string;
  connectFailed: boolean;
  /** The app sent `connect`. */
  connected: boolean;
  /** Names of what the app received, in order: event names, `linger-notice`, `disconnect-notice`. */
  delivered: string[];
  answeredAt?: number;
  bridges: BridgeAttempt[];
  hangupCause?: string;
  hangupBy?: HangupBy;
  hangupAt?: number;
  /**
   * The dialplan carried on after `socket` (callx.xml: the fallback, a prompt as early media, then
   * NORMAL_TEMPORARY_FAILURE): the app could not be reached, or let go of a live, unbridged call.
   */
  releasedToDialplan: boolean;
  /**
   * The app closed before `connect` and `socket_resume` was not set: the channel stays parked in `socket` (fact
   * 14) until `park_timeout`, if any, hangs it up.
   */
  stuckInPark: boolean;
  /** The SIP final response the carrier received, when the caller was never answered (503, 486, 480 ...). */
  carrierResponse?: number;
  /** The INVITE was refused by the switch's session limits (`503 Maximum Calls In Progress`); ESL never saw it. */
  refusedBySwitch: boolean;
  closedBy?: 'app' | 'peer';
  /** The `host:port` of the socket argument the call connected to (several are tried in turn). */
  socketAddress?: string;
}

interface ExecRequest {
  app: string;
  arg: string | undefined;
  eventUuid: string | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type Bridge =
  | { phase: 'ringing'; originate: Originate }
  | { phase: 'bridged'; leg: PeerChannel; ended: Deferred<{ by: 'caller' | 'buyer'; cause: string }> };

export interface SessionScript {
  /** The caller hangs up this long after the app connected (BYE if answered, CANCEL otherwise). */
  hangupAfterMs?: number;
  /** The caller hangs up this long after a bridge is established. */
  hangupAfterBridgeMs?: number;
}

const APPS = new Set([
  'answer', 'pre_answer', 'ring_ready', 'set', 'multiset', 'export', 'unset', 'bridge', 'playback', 'hangup',
  'park', 'sleep', 'log', 'info', 'event', 'respond', 'sched_hangup',
]);

export class CallSession extends EslListener {
  readonly record: CallRecord;
  /** Settles when the call is over and the socket is closed. */
  readonly finished: Promise<CallRecord>;
  /** Settles when the app sent `connect` (rejects if it never could connect). */
  readonly connected: Promise<void>;
  private readonly finishedD = deferred<CallRecord>();
  private readonly connectedD = deferred<void>();
  private connectedRejected: (e: Error) => void = () => undefined;
  /** null: no linger; -1: linger until exit; n: linger n seconds. */
  private linger: number | null = null;
  private readonly execQueue: ExecRequest[] = [];
  private running = false;
  private bridge: Bridge | undefined;
  private readonly exported = new Set<string>();
  private finalized = false;
  private socketClosed = false;
  private pendingDisposition: string | undefined;
  private readonly socketAppUuid = randomUUID();
  private readonly timers = new Set<NodeJS.Timeout>();
  private wakeWait: (() => void) | undefined;
  /** switch_ivr_park: armed once, when the socket application parks the channel. */
  private parkStarted = false;
  private parkTimer: NodeJS.Timeout | undefined;
  private parkExpired = false;
  private parkTimeoutCause = 'NORMAL_CLEARING';
  /** The app sent `resume` (LFLAG_RESUME). */
  private resumeFlag = false;
  private shuttingDown = false;

  constructor(
    core: PeerCore,
    readonly channel: PeerChannel,
    /** The `socket` application's argument: `host:port[|host:port] async full`. */
    private readonly socketData: string,
    private readonly script: SessionScript = {},
  ) {
    super(core);
    this.record = {
      uuid: channel.uuid,
      connectFailed: false,
      connected: false,
      delivered: [],
      bridges: [],
      releasedToDialplan: false,
      stuckInPark: false,
      refusedBySwitch: false,
    };
    this.finished = this.finishedD.promise;
    this.connected = new Promise<void>((resolve, reject) => {
      void this.connectedD.promise.then(resolve);
      this.connectedRejected = reject;
    });
    this.connected.catch(() => undefined);
    core.register({
      channel,
      hangup: (cause) => this.hangupChannel(cause, this.sendDisposition(), 'killed'),
      receiveMessage: (cmd) => this.receiveMessage(cmd),
    });
  }

  protected get sessionUuid(): string {
    return this.channel.uuid;
  }

  /** Connects to the app, trying each `host:port` of the socket argument in turn. */
  start(): void {
    const hosts = (this.socketData.split(' ')[0] ?? '').split('|').filter((h) => h !== '');
    const tryHost = (i: number): void => {
      const hp = hosts[i];
      if (!hp) {
        this.record.connectFailed = true;
        this.failConnect();
        return;
      }
      const colon = hp.lastIndexOf(':');
      const host = colon > 0 ? hp.slice(0, colon) : hp;
      const port = colon > 0 ? Number(hp.slice(colon + 1)) : 8084;
      const sock: Socket = connect({ host, port });
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        this.record.socketAddress = hp;
        this.attach(sock);
        if (this.script.hangupAfterMs !== undefined) this.after(this.script.hangupAfterMs, () => this.callerHangup());
      });
      sock.once('error', () => {
        sock.destroy();
        tryHost(i + 1);
      });
    };
    tryHost(0);
  }

  /** The socket application could not connect: FreeSWITCH logs "Socket Error!" and the dialplan goes on. */
  private failConnect(): void {
    this.record.releasedToDialplan = true;
    this.socketClosed = true;
    this.markHungUp('NORMAL_CLEARING', 'dialplan');
    this.channel.hangupCause = 'NORMAL_CLEARING';
    this.channel.answerState = 'hangup';
    this.core.unregister(this.channel.uuid);
    this.finalized = true;
    this.connectedRejected(new Error('the socket application could not connect'));
    this.finishedD.resolve(this.record);
  }

  /**
   * The INVITE never got to the dialplan: the session limits refused it (`Throttle Error!` or `Over Session
   * Limit!`), the carrier got `503 Maximum Calls In Progress`, and no socket was opened (fact 13).
   */
  refuseInvite(): void {
    this.record.refusedBySwitch = true;
    this.record.carrierResponse = 503;
    this.socketClosed = true;
    this.markHungUp('NORMAL_TEMPORARY_FAILURE', 'switch');
    this.channel.hangupCause = 'NORMAL_TEMPORARY_FAILURE';
    this.channel.answerState = 'hangup';
    this.core.unregister(this.channel.uuid);
    this.finalized = true;
    this.connectedRejected(new Error('the switch refused the INVITE (session limits)'));
    this.finishedD.resolve(this.record);
  }

  /**
   * switch_ivr_park, entered by `socket` once the app sent `connect` (or once the listener ended without it):
   * `park_timeout=N[:CAUSE]` is read and cleared here, and hangs the channel up N seconds later (whole epoch
   * seconds, so up to a second early) with CAUSE (default NORMAL_CLEARING). The deadline is checked only between
   * applications: a bridge running past it is not cut, but the channel is hung up as soon as it returns.
   */
  private startPark(): void {
    if (this.parkStarted) return;
    this.parkStarted = true;
    const raw = this.channel.getVar('park_timeout');
    if (raw === undefined) return;
    this.channel.setVar('park_timeout', undefined);
    const colon = raw.indexOf(':');
    const sec = Number.parseInt(colon < 0 ? raw : raw.slice(0, colon), 10);
    if (colon >= 0 && raw.slice(colon + 1).trim() !== '') this.parkTimeoutCause = raw.slice(colon + 1).trim().toUpperCase();
    if (!Number.isFinite(sec) || sec < 0) return;
    const now = Date.now();
    const ms = Math.max(0, (Math.floor(now / 1000) + sec) * 1000 - now);
    this.parkTimer = setTimeout(() => this.parkTimedOut(), ms);
    this.parkTimer.unref();
  }

  private parkTimedOut(): void {
    this.parkTimer = undefined;
    if (!this.channel.up || this.record.releasedToDialplan) return;
    this.parkExpired = true;
    if (!this.running) this.hangupChannel(this.parkTimeoutCause, this.sendDisposition(), 'park_timeout');
  }

  /** The caller hangs up now: BYE when answered (NORMAL_CLEARING), CANCEL before (ORIGINATOR_CANCEL). */
  callerHangup(cause?: string): void {
    const answered = this.channel.answered;
    this.hangupChannel(cause ?? (answered ? 'NORMAL_CLEARING' : 'ORIGINATOR_CANCEL'), answered ? 'recv_bye' : 'recv_cancel', 'caller');
  }

  override deliver(frame: EventFrame, eventName: string): void {
    if (this.stalled) return;
    if (this.core.options.record !== false) this.record.delivered.push(eventName);
    super.deliver(frame, eventName);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private sendDisposition(): string {
    return this.channel.answered ? 'send_bye' : 'send_refuse';
  }

  // ---- commands --------------------------------------------------------------------------------------------

  protected handleSpecific(cmd: EslCommand, verb: string): boolean {
    switch (verb) {
      case 'connect':
        this.record.connected = true;
        this.write(this.channel.channelDataPlain(this.core.identity, this.core.nextSequence(), 'async', 'full'));
        this.startPark();
        this.connectedD.resolve();
        return true;
      case 'myevents':
        this.myevents(cmd.line);
        return true;
      case 'linger': {
        const arg = cmd.line.slice(6).trim();
        this.linger = arg === '' ? -1 : Number.parseInt(arg, 10) || 600;
        this.reply(this.linger === -1 ? '+OK will linger' : `+OK will linger ${this.linger} seconds`);
        return true;
      }
      case 'nolinger':
        this.linger = null;
        this.reply('+OK will not linger');
        return true;
      case 'getvar': {
        const v = this.channel.getVar(cmd.line.slice(7).trim()) ?? '';
        this.reply(v === '' ? '-ERR command not found' : v);
        return true;
      }
      case 'resume':
        this.resumeFlag = true;
        this.channel.setVar('socket_resume', 'true');
        this.reply('+OK');
        return true;
      case 'divert_events':
        this.reply(/on/i.test(cmd.line.slice(13)) ? '+OK events diverted' : '+OK events not diverted');
        return true;
      case 'sendmsg':
        this.sendmsg(cmd);
        return true;
      default:
        return false;
    }
  }

  private myevents(line: string): void {
    const sub = this.subscription;
    if (sub.myEventsUuid) {
      this.reply('-ERR aready enabled.');
      return;
    }
    for (const n of MYEVENTS_NAMES) sub.names.add(n);
    sub.myEventsUuid = this.channel.uuid;
    sub.enabled = true;
    if (/xml/i.test(line)) sub.format = 'xml';
    if (/json/i.test(line)) sub.format = 'json';
    this.core.bus.update(this);
    this.reply('+OK Events Enabled');
  }

  private sendmsg(cmd: EslCommand): void {
    const uuid = cmd.line.slice(7).trim() || header(cmd, 'session-id') || '';
    if (uuid !== '' && uuid !== this.channel.uuid) {
      const other = this.core.live.get(uuid);
      if (!other?.receiveMessage) {
        this.reply(`-ERR invalid session id [${uuid}]`);
        return;
      }
      this.reply('+OK');
      other.receiveMessage(cmd);
      return;
    }
    this.reply('+OK');
    this.receiveMessage(cmd);
  }

  /** A queued private event (sendmsg): execute an application, or hang up. */
  receiveMessage(cmd: EslCommand): void {
    const command = (header(cmd, 'call-command') ?? '').toLowerCase();
    if (command === 'execute') {
      let arg = header(cmd, 'execute-app-arg');
      if ((arg === undefined || arg === '') && /text\/plain/i.test(header(cmd, 'content-type') ?? '')) arg = cmd.body ?? undefined;
      this.execQueue.push({ app: header(cmd, 'execute-app-name') ?? '', arg, eventUuid: header(cmd, 'event-uuid') });
      setImmediate(() => this.pump());
    } else if (command === 'hangup') {
      setImmediate(() => this.hangupChannel(header(cmd, 'hangup-cause') ?? 'NORMAL_CLEARING', this.sendDisposition(), 'app'));
    }
  }

  // ---- applications ----------------------------------------------------------------------------------------

  private pump(): void {
    if (this.running || !this.channel.up) return;
    if (this.parkExpired && !this.record.releasedToDialplan) {
      this.hangupChannel(this.parkTimeoutCause, this.sendDisposition(), 'park_timeout');
      return;
    }
    const next = this.execQueue.shift();
    if (!next) {
      if (this.socketClosed && !this.record.stuckInPark) this.releaseToDialplan();
      return;
    }
    this.running = true;
    void this.runApp(next).finally(() => {
      this.running = false;
      if (!this.channel.up) this.finalize();
      else this.pump();
    });
  }

  private async runApp(req: ExecRequest): Promise<void> {
    const ch = this.channel;
    const app = req.app.toLowerCase();
    const appUuid = req.eventUuid ?? randomUUID();
    if (!APPS.has(app)) {
      // switch_core_session_execute_application: "Invalid Application" hangs the channel up.
      this.hangupChannel('DESTINATION_OUT_OF_ORDER', this.sendDisposition(), 'switch');
      return;
    }
    const arg = req.arg;
    ch.setVar('current_loop', '1');
    ch.setVar('total_loops', '1');
    if (arg) ch.setVar('current_application_data', arg);
    else ch.setVar('current_application_data', undefined);
    ch.setVar('current_application', app);
    const appHeaders = (response?: string): Header[] => {
      const h: Header[] = [['Application', app]];
      if (arg) h.push(['Application-Data', arg]);
      if (response !== undefined) h.push(['Application-Response', response]);
      h.push(['Application-UUID', appUuid]);
      return h;
    };
    this.core.fire(ch, 'CHANNEL_EXECUTE', { trailing: appHeaders() });
    const response = await this.execute(app, arg ?? '');
    ch.setVar('last_app', app);
    if (arg) ch.setVar('last_arg', arg);
    this.core.fire(ch, 'CHANNEL_EXECUTE_COMPLETE', { trailing: appHeaders(response) });
    ch.setVar('current_loop', undefined);
    ch.setVar('total_loops', undefined);
  }

  private async execute(app: string, arg: string): Promise<string> {
    const ch = this.channel;
    switch (app) {
      case 'answer':
        if (!ch.answered) this.markAnswered();
        ch.setVar('endpoint_disposition', 'ANSWER');
        return '_none_';
      case 'pre_answer':
        this.markEarly();
        return '_none_';
      case 'ring_ready':
        this.markRinging();
        return '_none_';
      case 'set':
        this.setAssignment(arg);
        return '_none_';
      case 'multiset': {
        let sep = ' ';
        let text = arg;
        if (text.startsWith('^^') && text.length > 2) {
          sep = text[2] as string;
          text = text.slice(3);
        }
        for (const part of text.split(sep)) if (part !== '') this.setAssignment(part);
        return '_none_';
      }
      case 'export': {
        const assignment = arg.replace(/^nolocal:/, '');
        const name = assignment.split('=')[0] ?? '';
        this.exported.add(name);
        if (!arg.startsWith('nolocal:')) this.setAssignment(assignment);
        ch.setVar('export_vars', [...this.exported].join(','));
        return '_none_';
      }
      case 'unset':
        ch.setVar(arg.trim(), undefined);
        return '_none_';
      case 'playback':
        return this.playback(arg);
      case 'sleep':
        await this.interruptibleWait(Number.parseInt(arg, 10) || 0);
        return '_none_';
      case 'park':
        await this.interruptibleWait(Number.POSITIVE_INFINITY);
        return '_none_';
      case 'hangup':
        this.hangupChannel(arg.trim() || 'NORMAL_CLEARING', this.sendDisposition(), 'app');
        return '_none_';
      case 'bridge':
        return this.runBridge(arg);
      default:
        return '_none_';
    }
  }

  private setAssignment(assignment: string): void {
    const eq = assignment.indexOf('=');
    if (eq <= 0) return;
    this.channel.setVar(assignment.slice(0, eq).trim(), assignment.slice(eq + 1));
  }

  private markAnswered(): void {
    const ch = this.channel;
    ch.times.answered = nowMicros();
    ch.answerState = 'answered';
    ch.setDetailVar('rtp_local_sdp_str', 'v=0\r\no=FreeSWITCH 1 2 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20992 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n');
    ch.setDetailVar('local_media_ip', '127.0.0.1');
    ch.setDetailVar('local_media_port', '20992');
    ch.setDetailVar('advertised_media_ip', '127.0.0.1');
    ch.setDetailVar('rtp_use_pt', '8');
    ch.setDetailVar('rtp_use_ssrc', '252378655');
    this.record.answeredAt = Date.now();
    this.core.fire(ch, 'CHANNEL_ANSWER');
    ch.callState = 'ACTIVE';
  }

  private markEarly(): void {
    const ch = this.channel;
    if (ch.answered || ch.times.progressMedia > 0) return;
    ch.times.progressMedia = nowMicros();
    ch.answerState = 'early';
    ch.callState = 'EARLY';
    this.core.fire(ch, 'CHANNEL_PROGRESS_MEDIA');
  }

  private markRinging(): void {
    const ch = this.channel;
    if (ch.answered || ch.times.progress > 0) return;
    ch.times.progress = nowMicros();
    this.core.fire(ch, 'CHANNEL_PROGRESS');
  }

  private async playback(file: string): Promise<string> {
    const ms = this.core.prompts.get(file) ?? this.core.options.playbackMs ?? 20;
    if (ms < 0) return 'FILE NOT FOUND';
    if (!this.channel.answered) this.markEarly();
    const finished = await this.interruptibleWait(ms);
    return finished ? 'FILE PLAYED' : 'PLAYBACK ERROR';
  }

  /** Waits, or stops early when the channel hangs up; resolves true when the full time passed. */
  private interruptibleWait(ms: number): Promise<boolean> {
    if (!this.channel.up) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (full: boolean): void => {
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        this.wakeWait = undefined;
        resolve(full);
      };
      this.wakeWait = () => done(false);
      if (Number.isFinite(ms)) {
        timer = setTimeout(() => done(true), ms);
        this.timers.add(timer);
      }
    });
  }

  // ---- bridge ----------------------------------------------------------------------------------------------

  private async runBridge(arg: string): Promise<string> {
    const ch = this.channel;
    const attempt: BridgeAttempt = { dialString: arg, result: '', startedAt: Date.now() };
    this.record.bridges.push(attempt);
    const exported: Record<string, string> = {};
    for (const name of this.exported) {
      const v = ch.getVar(name);
      if (v !== undefined) exported[name] = v;
    }
    const originate = new Originate(this.core, {
      dial: parseDialString(arg),
      directory: this.core.buyers,
      callerIdNumber: ch.getVar('effective_caller_id_number') ?? ch.profile.callerIdNumber,
      callerIdName: ch.getVar('effective_caller_id_name') ?? ch.profile.callerIdName,
      context: ch.profile.context,
      originator: ch,
      exported,
      onRinging: () => this.markRinging(),
    });
    this.bridge = { phase: 'ringing', originate };
    const res = await originate.done;
    this.bridge = undefined;
    attempt.target = res.target;
    if (!res.ok) {
      attempt.result = res.cause;
      const bUuid = res.leg?.uuid;
      const user = res.target ? endpointUser(res.target) : '';
      if (bUuid) {
        ch.setVar('originate_signal_bond', bUuid);
        ch.setVar('originated_legs', `${bUuid};Outbound Call;${user}`);
      }
      if (res.sip) {
        ch.setVar('sip_invite_failure_status', String(res.sip[0]));
        ch.setVar('sip_invite_failure_phrase', res.sip[1]);
        ch.setVar('sip_hangup_phrase', res.sip[1]);
      }
      // A leg the switch refused to create (throttle, session limit) leaves no B-leg variables (recording I).
      if (bUuid) ch.setVar('last_bridge_hangup_cause', res.cause);
      if (res.sip) ch.setVar('last_bridge_proto_specific_hangup_cause', `sip:${res.sip[0]}`);
      ch.setVar('originate_disposition', res.cause);
      ch.setVar('DIALSTATUS', dialStatus(res.cause));
      if (bUuid) ch.setVar('originate_causes', `${bUuid};${res.cause}`);
      ch.setVar('originate_failed_cause', res.cause);
      if (ch.up && !continueOnFail(ch.getVar('continue_on_fail'), ch.getVar('failure_causes'), res.cause)) {
        // mod_dptools bridge: without continue_on_fail the caller is hung up with the buyer's cause.
        this.hangupChannel(res.cause, this.sendDisposition(), 'switch');
      }
      return '_none_';
    }
    const b = res.leg;
    if (!ch.up) {
      hangupOutgoingLeg(this.core, b, 'ORIGINATOR_CANCEL', 'send_cancel');
      attempt.result = 'ORIGINATOR_CANCEL';
      return '_none_';
    }
    attempt.result = 'SUCCESS';
    const user = endpointUser(res.target);
    ch.setVar('originated_legs', `${b.uuid};Outbound Call;${user}`);
    ch.setDetailVar('switch_m_sdp', 'v=0\r\no=buyer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6100 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n');
    ch.setVar('originate_disposition', 'SUCCESS');
    ch.setVar('DIALSTATUS', 'SUCCESS');
    ch.setVar('originate_causes', `${b.uuid};NONE`);
    ch.setVar('signal_bond', b.uuid);
    ch.profile.calleeIdName = 'Outbound Call';
    ch.profile.calleeIdNumber = user;
    if (ch.times.progress === 0) ch.times.progress = b.times.progress || nowMicros();
    if (!ch.answered) this.markAnswered();
    ch.times.bridged = nowMicros();
    ch.otherLeg = { channel: b, type: 'originatee' };
    b.otherLeg = { channel: ch, type: 'originator' };
    const bridgeIds: Header[] = [
      ['Bridge-A-Unique-ID', ch.uuid],
      ['Bridge-B-Unique-ID', b.uuid],
    ];
    this.core.fire(ch, 'CHANNEL_BRIDGE', { leading: bridgeIds });
    attempt.bridgedAt = Date.now();
    ch.setVar('bridge_to', b.uuid);
    ch.setVar('last_bridge_to', b.uuid);
    ch.setVar('bridge_channel', b.profile.channelName);
    ch.setVar('bridge_uuid', b.uuid);
    ch.setVar('last_sent_callee_id_name', 'Outbound Call');
    ch.setVar('last_sent_callee_id_number', user);
    const ended = deferred<{ by: 'caller' | 'buyer'; cause: string }>();
    this.bridge = { phase: 'bridged', leg: b, ended };
    this.core.register({ channel: b, hangup: (cause) => ended.resolve({ by: 'buyer', cause }) });
    let buyerTimer: NodeJS.Timeout | undefined;
    let callerTimer: NodeJS.Timeout | undefined;
    if (res.script.hangupAfterMs !== undefined) {
      buyerTimer = setTimeout(() => ended.resolve({ by: 'buyer', cause: 'NORMAL_CLEARING' }), res.script.hangupAfterMs);
    }
    if (this.script.hangupAfterBridgeMs !== undefined) {
      callerTimer = setTimeout(() => this.callerHangup(), this.script.hangupAfterBridgeMs);
    }
    const end = await ended.promise;
    clearTimeout(buyerTimer);
    clearTimeout(callerTimer);
    this.bridge = undefined;
    attempt.endedAt = Date.now();
    attempt.endedBy = end.by;
    ch.setDetailVar('sip_term_status', '200');
    ch.setDetailVar('proto_specific_hangup_cause', 'sip:200');
    ch.setDetailVar('sip_term_cause', '16');
    ch.setVar('last_bridge_role', 'originator');
    if (end.by === 'caller') {
      hangupOutgoingLeg(this.core, b, 'NORMAL_CLEARING', 'send_bye');
      if (this.pendingDisposition) {
        ch.setVar('sip_hangup_disposition', this.pendingDisposition);
        this.pendingDisposition = undefined;
      }
      ch.setVar('bridge_hangup_cause', 'NORMAL_CLEARING');
    } else {
      hangupOutgoingLeg(this.core, b, end.cause, 'recv_bye');
      ch.setVar('bridge_hangup_cause', end.cause);
      ch.setVar('last_bridge_hangup_cause', end.cause);
    }
    this.core.fire(ch, 'CHANNEL_UNBRIDGE', { leading: bridgeIds });
    if (ch.up && switchTrue(ch.getVar('hangup_after_bridge'))) {
      this.hangupChannel('NORMAL_CLEARING', 'send_bye', 'buyer');
    }
    return '_none_';
  }

  // ---- hangup ----------------------------------------------------------------------------------------------

  private markHungUp(cause: string, by: HangupBy): void {
    this.record.hangupCause = cause;
    this.record.hangupBy = by;
    this.record.hangupAt = Date.now();
  }

  /** switch_channel_hangup: CHANNEL_HANGUP, the linger notice, then the running application unwinds. */
  hangupChannel(cause: string, disposition: string, by: HangupBy): void {
    const ch = this.channel;
    if (!ch.up || this.finalized) return;
    this.markHungUp(cause, by);
    ch.hangupCause = cause;
    ch.answerState = 'hangup';
    ch.stateNumberOverride = 10;
    const bridged = this.bridge?.phase === 'bridged';
    if (disposition.startsWith('recv_') && !bridged) ch.setVar('sip_hangup_disposition', disposition);
    else this.pendingDisposition = disposition;
    if (!ch.answered && !disposition.startsWith('recv_')) this.record.carrierResponse = this.carrierStatus(cause);
    this.core.fire(ch, 'CHANNEL_HANGUP');
    if (!this.socketClosed) {
      if (this.linger !== null) {
        this.record.delivered.push('linger-notice');
        this.write(lingerNotice(ch.uuid, ch.profile.channelName, this.linger));
      } else if (this.core.options.noLingerDropsEvents !== false) {
        // Without linger the listener sees the channel down and closes: later events are lost.
        this.record.delivered.push('disconnect-notice');
        this.kill();
      }
    }
    // Unwind whatever runs on the channel.
    if (this.bridge?.phase === 'ringing') this.bridge.originate.cancel('ORIGINATOR_CANCEL');
    else if (this.bridge?.phase === 'bridged') this.bridge.ended.resolve({ by: 'caller', cause });
    this.wakeWait?.();
    if (!this.running) this.finalize();
  }

  /**
   * sofia_on_hangup on an unanswered inbound leg: the final response is hangup_cause_to_sip(cause), unless the
   * last bridge left `last_bridge_proto_specific_hangup_cause=sip:NNN` and `sip_ignore_remote_cause` is not true:
   * then the carrier gets the buyer's NNN (issue 12, point 7: 486 after every buyer was busy).
   */
  private carrierStatus(cause: string): number {
    const ch = this.channel;
    const remote = switchTrue(ch.getVar('sip_ignore_remote_cause')) ? undefined : ch.getVar('last_bridge_proto_specific_hangup_cause');
    const m = remote ? /^sips?:(\d+)/i.exec(remote) : null;
    const n = m ? Number(m[1]) : 0;
    return n > 0 ? n : hangupCauseToSip(cause);
  }

  /** The closing events every controlled channel gets once its applications returned. */
  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    clearTimeout(this.parkTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const ch = this.channel;
    const cause = ch.hangupCause ?? 'NORMAL_CLEARING';
    this.core.fire(ch, 'CHANNEL_UNPARK');
    this.core.fire(ch, 'CHANNEL_EXECUTE_COMPLETE', {
      trailing: [
        ['Application', 'socket'],
        ['Application-Data', this.socketData],
        ['Application-Response', '_none_'],
        ['Application-UUID', this.socketAppUuid],
      ],
    });
    ch.stateNumberOverride = undefined;
    ch.state = 'CS_HANGUP';
    this.core.fire(ch, 'CHANNEL_STATE', { withVariables: false });
    ch.state = 'CS_REPORTING';
    ch.callState = 'HANGUP';
    ch.times.hangup = nowMicros();
    this.core.fire(ch, 'CHANNEL_STATE', { withVariables: false });
    this.setHangupVariables(cause);
    this.core.fire(ch, 'CHANNEL_HANGUP_COMPLETE', { leading: [['Hangup-Cause', cause]] });
    this.core.unregister(ch.uuid);
    if (this.socketClosed) {
      this.finishedD.resolve(this.record);
    } else if (this.linger === null) {
      this.record.delivered.push('disconnect-notice');
      this.kill();
    } else if (this.linger > 0) {
      const t = setTimeout(() => this.kill(), this.linger * 1000);
      t.unref();
    }
  }

  private setHangupVariables(cause: string): void {
    const ch = this.channel;
    const t = ch.times;
    if (this.pendingDisposition) ch.setVar('sip_hangup_disposition', this.pendingDisposition);
    this.pendingDisposition = undefined;
    ch.setVar('hangup_cause', cause);
    ch.setVar('hangup_cause_q850', String(Q850[cause] ?? 0));
    ch.setDetailVar('digits_dialed', 'none');
    const stamp = (us: number): string => localStamp(new Date(us / 1000));
    ch.setDetailVar('start_stamp', stamp(t.created));
    if (t.answered) ch.setDetailVar('answer_stamp', stamp(t.answered));
    if (t.bridged) ch.setDetailVar('bridge_stamp', stamp(t.bridged));
    ch.setDetailVar('end_stamp', stamp(t.hangup));
    const pair = (name: string, us: number): void => {
      ch.setVar(`${name}_epoch`, String(Math.floor(us / 1e6)));
      ch.setVar(`${name}_uepoch`, String(us));
    };
    pair('start', t.created);
    pair('answer', t.answered);
    pair('bridge', t.bridged);
    pair('progress', t.progress);
    pair('end', t.hangup);
    ch.setDetailVar('caller_id', `"${ch.profile.callerIdName}" <${ch.profile.callerIdNumber}>`);
    const durUs = t.hangup - t.created;
    const billUs = t.answered ? t.hangup - t.answered : 0;
    ch.setVar('duration', String(Math.round(durUs / 1e6)));
    ch.setVar('billsec', String(Math.round(billUs / 1e6)));
    ch.setVar('mduration', String(Math.round(durUs / 1e3)));
    ch.setVar('billmsec', String(Math.round(billUs / 1e3)));
    ch.setVar('uduration', String(durUs));
    ch.setVar('billusec', String(billUs));
  }

  /**
   * `socket` returned on a live channel: the dialplan continues with callx.xml's fallback (transfer to
   * callx_fallback: pre_answer, the prompt, hangup NORMAL_TEMPORARY_FAILURE). A prompt named `fallback` in
   * `peer.prompts` sets how long it plays.
   */
  private releaseToDialplan(): void {
    if (!this.channel.up || this.record.releasedToDialplan) return;
    this.record.releasedToDialplan = true;
    clearTimeout(this.parkTimer);
    this.parkExpired = false;
    this.markEarly();
    const ms = this.core.prompts.get('fallback') ?? this.core.options.playbackMs ?? 20;
    this.after(Math.max(0, ms), () => this.hangupChannel('NORMAL_TEMPORARY_FAILURE', this.sendDisposition(), 'dialplan'));
  }

  /**
   * The app's socket closed (it sent `exit`, crashed or closed), as mod_event_socket handles it (facts 11, 12, 14):
   * - a bridged call goes on untouched (the bridge is the running application); when it returns the dialplan
   *   continues, unless hangup_after_bridge or the caller ended the call;
   * - a parked call (nothing running) leaves `socket` at once and the dialplan continues (the fallback);
   * - closed before `connect` without `socket_resume`: the channel is parked for good (park_timeout bounds it);
   *   with `socket_resume=true` (or `resume`) the dialplan continues at once.
   * Scripted caller behaviour (hangup timers) goes on: the caller does not know the app is gone.
   */
  protected onClosed(): void {
    this.socketClosed = true;
    this.record.closedBy ??= 'app';
    if (!this.finalized && this.channel.up && !this.shuttingDown) {
      const resume = this.resumeFlag || switchTrue(this.channel.getVar('socket_resume'));
      if (!this.record.connected && !resume) {
        this.record.stuckInPark = true;
        this.startPark();
      } else if (!this.running && this.execQueue.length === 0 && this.bridge === undefined) {
        this.releaseToDialplan();
      }
    }
    if (this.finalized) this.finishedD.resolve(this.record);
    if (!this.record.connected) this.connectedRejected(new Error('socket closed before the app sent connect'));
  }

  /** The peer shuts down: the socket is cut and nothing of this call runs any more. */
  override destroy(): void {
    this.shuttingDown = true;
    clearTimeout(this.parkTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    super.destroy();
  }

  override kill(reason?: string): void {
    if (this.isOpen) this.record.closedBy ??= 'peer';
    super.kill(reason);
  }
}

/** switch_channel_handle_cause: continue_on_fail may be true/false or a list of causes (names or numbers). */
export function continueOnFail(value: string | undefined, failureCauses: string | undefined, cause: string): boolean {
  const inList = (list: string): boolean =>
    list.split(',').some((c) => c.trim().toUpperCase() === cause || c.trim() === String(Q850[cause] ?? -1));
  if (failureCauses !== undefined && !inList(failureCauses)) return true;
  if (value === undefined) return false;
  if (switchTrue(value)) return true;
  return inList(value);
}
