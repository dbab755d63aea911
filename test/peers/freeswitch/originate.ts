/**
 * Placing a call to a scripted far end (switch_ivr_originate): creates the outgoing channel, fires its
 * CHANNEL_OUTGOING/CREATE/ORIGINATE/PROGRESS events, then answers, fails, or times out as the script says.
 * Used by `bridge` (buyers) and by the `originate` api (consumers).
 */
import { randomUUID } from 'node:crypto';
import { PeerChannel, SIP_STATUS_FOR_CAUSE, nowMicros } from './channel';
import type { PeerCore } from './core';
import { endpointUser, type DialEndpoint, type DialString } from './dial-string';
import type { EndpointDirectory, EndpointScript } from './scripts';

export type OriginateResult =
  | { ok: true; leg: PeerChannel; script: Extract<EndpointScript, { kind: 'answer' }>; target: string }
  | { ok: false; cause: string; sip?: [number, string]; leg?: PeerChannel; target?: string };

export interface OriginateRequest {
  dial: DialString;
  directory: EndpointDirectory;
  /** Caller id the far end sees unless origination_caller_id_number overrides it. */
  callerIdNumber: string;
  callerIdName: string;
  context: string;
  /** The bridging channel (bridge) or none (api originate). */
  originator?: PeerChannel;
  /** Variables exported from the originator onto the new leg. */
  exported?: Record<string, string>;
  /** Called once when a far end starts ringing. */
  onRinging?: () => void;
}

/** originate_timeout is checked against whole seconds of wall clock, so it fires up to a second early. */
export function wholeSecondDeadlineMs(startMs: number, timeoutSec: number): number {
  const startSec = Math.floor(startMs / 1000);
  return Math.max(0, (startSec + timeoutSec) * 1000 - startMs);
}

/** A running originate; `cancel` ends it (the caller hung up: ORIGINATOR_CANCEL). */
export class Originate {
  readonly done: Promise<OriginateResult>;
  private finish!: (r: OriginateResult) => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ringing = new Map<string, { channel: PeerChannel; endpoint: DialEndpoint }>();
  private settled = false;
  private groupIndex = 0;

  constructor(private readonly core: PeerCore, private readonly req: OriginateRequest) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    setImmediate(() => this.tryGroup());
  }

  cancel(cause = 'ORIGINATOR_CANCEL'): void {
    if (this.settled) return;
    for (const { channel } of this.ringing.values()) this.hangupLeg(channel, cause, 'send_cancel');
    this.ringing.clear();
    this.settle({ ok: false, cause });
  }

  private settle(r: OriginateResult): void {
    if (this.settled) return;
    this.settled = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.finish(r);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private timeoutSec(ep: DialEndpoint): number {
    const raw = ep.vars.leg_timeout ?? ep.vars.originate_timeout ?? this.req.dial.globalVars.originate_timeout;
    const n = raw === undefined ? 60 : Number.parseInt(raw, 10);
    return Number.isFinite(n) && n > 0 ? n : 60;
  }

  /** Rings every endpoint of the current failover group at once. */
  private tryGroup(): void {
    if (this.settled) return;
    const group = this.req.dial.groups[this.groupIndex];
    if (!group) {
      this.settle({ ok: false, cause: 'NO_ROUTE_DESTINATION' });
      return;
    }
    const failures: OriginateResult[] = [];
    let pending = group.length;
    const start = Date.now();
    for (const ep of group) {
      if (!this.core.admitSession()) {
        // `Throttle Error!` / `Over Session Limit!`: no channel is created and no INVITE leaves (fact 13).
        failures.push({ ok: false, cause: 'DESTINATION_OUT_OF_ORDER', target: ep.target });
        if (--pending === 0) this.groupFailed(failures);
        continue;
      }
      const script = this.req.directory.lookup(ep.target);
      const leg = this.createLeg(ep);
      this.ringing.set(leg.uuid, { channel: leg, endpoint: ep });
      const fail = (cause: string, sip?: [number, string], disposition = 'recv_refuse'): void => {
        if (!this.ringing.delete(leg.uuid)) return;
        if (sip) {
          leg.setVar('sip_invite_failure_status', String(sip[0]));
          leg.setVar('sip_invite_failure_phrase', sip[1]);
        }
        this.hangupLeg(leg, cause, disposition);
        failures.push(sip ? { ok: false, cause, sip, leg, target: ep.target } : { ok: false, cause, leg, target: ep.target });
        if (--pending === 0) this.groupFailed(failures);
      };
      // 100 Trying, then 180 Ringing on the next turn.
      setImmediate(() => {
        if (!this.ringing.has(leg.uuid)) return;
        leg.times.progress = nowMicros();
        this.core.fire(leg, 'CHANNEL_PROGRESS');
        this.req.onRinging?.();
      });
      this.after(wholeSecondDeadlineMs(start, this.timeoutSec(ep)), () => fail('NO_ANSWER', undefined, 'send_cancel'));
      switch (script.kind) {
        case 'answer':
          this.after(script.afterMs ?? 5, () => {
            if (!this.ringing.delete(leg.uuid)) return;
            // The first to answer wins; the others lose the race.
            for (const other of this.ringing.values()) this.hangupLeg(other.channel, 'LOSE_RACE', 'send_cancel');
            this.ringing.clear();
            this.answerLeg(leg);
            this.settle({ ok: true, leg, script, target: ep.target });
          });
          break;
        case 'busy':
          this.after(script.afterMs ?? 5, () => fail('USER_BUSY', SIP_STATUS_FOR_CAUSE.USER_BUSY));
          break;
        case 'fail':
          this.after(script.afterMs ?? 5, () => fail(script.cause, SIP_STATUS_FOR_CAUSE[script.cause]));
          break;
        case 'no_answer':
          break;
      }
    }
  }

  private groupFailed(failures: OriginateResult[]): void {
    if (this.settled) return;
    this.groupIndex++;
    if (this.groupIndex < this.req.dial.groups.length) {
      this.tryGroup();
      return;
    }
    this.settle(failures[0] ?? { ok: false, cause: 'NO_ROUTE_DESTINATION' });
  }

  private createLeg(ep: DialEndpoint): PeerChannel {
    const vars = { ...this.req.exported, ...this.req.dial.globalVars, ...ep.vars };
    const user = endpointUser(ep.target);
    const cidNumber = vars.origination_caller_id_number ?? this.req.callerIdNumber;
    const cidName = vars.origination_caller_id_name ?? this.req.callerIdName;
    const channelName = ep.target;
    const leg = new PeerChannel(
      vars.origination_uuid ?? randomUUID(),
      {
        direction: 'outbound',
        logicalDirection: this.req.originator ? 'inbound' : 'outbound',
        username: this.req.originator?.profile.username ?? '',
        dialplan: this.req.originator ? 'XML' : '',
        callerIdName: cidName,
        callerIdNumber: cidNumber,
        calleeIdName: 'Outbound Call',
        calleeIdNumber: user,
        networkAddr: '127.0.0.1',
        ani: cidNumber,
        destinationNumber: user,
        source: this.req.originator ? 'mod_sofia' : 'src/switch_ivr_originate.c',
        context: this.req.context,
        channelName,
      },
      this.core.detail,
    );
    leg.state = 'CS_INIT';
    leg.callState = 'DOWN';
    leg.hitDialplan = false;
    leg.hasMedia = false;
    leg.setVar('direction', 'outbound');
    leg.setVar('is_outbound', 'true');
    leg.setVar('uuid', leg.uuid);
    leg.setVar('channel_name', channelName);
    leg.setDetailVar('sip_destination_url', `sip:${ep.target.replace(/^sofia\/(gateway\/)?[^/]+\//, '')}`);
    if (this.req.originator) {
      leg.setVar('originator', this.req.originator.uuid);
      leg.setVar('originating_leg_uuid', this.req.originator.uuid);
      leg.setVar('signal_bond', this.req.originator.uuid);
    }
    leg.setVar('call_uuid', this.req.originator?.uuid ?? leg.uuid);
    for (const [k, v] of Object.entries(vars)) leg.setVar(k, v);
    leg.setVar('originate_early_media', 'true');
    leg.setVar('originate_endpoint', ep.target.split('/')[0] ?? 'sofia');
    this.core.register({ channel: leg, hangup: (cause) => this.killLeg(leg, cause) });
    this.core.invitesSent.push(ep.target);
    this.core.fire(leg, 'CHANNEL_OUTGOING', { withVariables: false });
    this.core.fire(leg, 'CHANNEL_CREATE');
    this.core.fire(leg, 'CHANNEL_ORIGINATE');
    leg.state = 'CS_CONSUME_MEDIA';
    return leg;
  }

  /** uuid_kill on a ringing leg fails that endpoint with the given cause. */
  private killLeg(leg: PeerChannel, cause: string): void {
    if (!this.ringing.delete(leg.uuid)) return;
    this.hangupLeg(leg, cause, 'send_cancel');
    this.settle({ ok: false, cause, leg });
  }

  private answerLeg(leg: PeerChannel): void {
    leg.hasMedia = true;
    leg.times.answered = nowMicros();
    leg.answerState = 'answered';
    leg.callState = 'ACTIVE';
    leg.setVar('endpoint_disposition', 'ANSWER');
    this.core.fire(leg, 'CHANNEL_ANSWER');
  }

  hangupLeg(leg: PeerChannel, cause: string, disposition: string): void {
    hangupOutgoingLeg(this.core, leg, cause, disposition);
  }
}

/**
 * Hangs up a leg the peer placed: CHANNEL_HANGUP now; HANGUP_COMPLETE and DESTROY a turn later, as the leg's own
 * thread reports them after the bridging channel already saw the result.
 */
export function hangupOutgoingLeg(core: PeerCore, leg: PeerChannel, cause: string, disposition: string): void {
  if (!leg.up) return;
  leg.hangupCause = cause;
  leg.answerState = 'hangup';
  core.fire(leg, 'CHANNEL_HANGUP');
  core.unregister(leg.uuid);
  setImmediate(() => {
    leg.state = 'CS_REPORTING';
    leg.callState = 'HANGUP';
    leg.times.hangup = nowMicros();
    leg.setVar('hangup_cause', cause);
    leg.setVar('sip_hangup_disposition', disposition);
    core.fire(leg, 'CHANNEL_HANGUP_COMPLETE', { leading: [['Hangup-Cause', cause]] });
    leg.state = 'CS_DESTROY';
    core.fire(leg, 'CHANNEL_DESTROY');
  });
}
