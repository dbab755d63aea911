/**
 * A call the exchange places to a consumer: `POST /channels` into our Stasis app with
 * `appArgs=outbound,<call id>,<campaign id>`. Answered means the state change to Up plus StasisStart (the leg
 * must be in Stasis to be bridged later); then the channel becomes an ordinary call leg handed to the pipeline
 * with direction 'outbound'. A consumer who is busy, does not answer or cannot be reached shows only in
 * ChannelDestroyed's cause, or in the originate's 500 `Allocation failed`.
 */
import type { Logger } from '../../observability/logger';
import type { CallInfo, OriginateRequest, OriginateResult } from '../port';
import { eventChannel, eventTime, type AriChannel, type AriEvent } from './ari-model';
import { isAriError } from './ari-rest';
import { AsteriskCallLeg } from './call-leg';
import { causeName } from './causes';
import type { EventOwner } from './channel-router';
import { callerIdParam, stasisArgs } from './dial';
import { logCleanupError, type LegContext } from './leg-context';

export type AnsweredHandler = (leg: AsteriskCallLeg, info: CallInfo) => void;

export class OutboundCall implements EventOwner {
  readonly channelId: string;
  private upAt: Date | undefined;
  private inStasis = false;
  private settled = false;
  private destroyed = false;
  private requestCause: number | undefined;
  private resolveResult: ((r: OriginateResult) => void) | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stasisTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** When we learnt the consumer channel exists (originate answered, or one of its events). */
  private knownSince: number | undefined;

  constructor(
    private readonly ctx: LegContext,
    private readonly req: OriginateRequest,
    private readonly endpoint: string,
    private readonly onAnswered: AnsweredHandler,
    log: Logger,
  ) {
    this.channelId = ctx.ids.next('o');
    this.log = log.child({ consumerChannel: this.channelId, callId: req.callId, campaignId: req.campaignId });
  }

  run(): Promise<OriginateResult> {
    return new Promise<OriginateResult>((resolve) => {
      this.resolveResult = resolve;
      const timeoutSec = Math.max(1, Math.ceil(this.req.answerTimeoutSec));
      const limitMs = timeoutSec * 1000 + this.ctx.timeouts.originateMarginMs;
      this.deadline = setTimeout(() => {
        this.log.error({ limitMs }, 'originate: no outcome from the switch in time');
        this.fail({ status: 'failed', cause: 'RECOVERY_ON_TIMER_EXPIRE', detail: `no outcome within ${limitMs} ms` });
      }, limitMs);
      this.ctx.router.addChannel(this.channelId, this);
      void this.send(timeoutSec);
    });
  }

  private async send(timeoutSec: number): Promise<void> {
    const args = stasisArgs(['outbound', this.req.callId, this.req.campaignId]);
    if (!args.ok) {
      this.destroyed = true;
      this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: args.reason });
      return;
    }
    const callerId = callerIdParam(this.req.callerIdNumber);
    try {
      await this.ctx.rest.originate({
        endpoint: this.endpoint,
        app: this.ctx.app,
        appArgs: args.value,
        ...(callerId ? { callerId } : {}),
        timeoutSec,
        channelId: this.channelId,
        variables: {
          CALLX_CALL_ID: this.req.callId,
          CALLX_CAMPAIGN_ID: this.req.campaignId,
          // read back from the answered leg (call-info.ts): a node that did not dial the call still knows them
          ...(this.req.zip ? { CALLX_ZIP: this.req.zip } : {}),
          ...(this.req.leadId ? { CALLX_LEAD_ID: this.req.leadId } : {}),
        },
      });
      this.knownSince ??= Date.now();
    } catch (err) {
      if (this.settled) return;
      if (isAriError(err, 'allocation_failed')) {
        this.destroyed = true;
        this.log.warn({ endpoint: this.endpoint }, 'originate: the switch could not create the channel (Allocation failed)');
        this.fail({ status: 'failed', cause: 'NO_ROUTE_DESTINATION', detail: 'Allocation failed' });
        return;
      }
      this.log.warn({ endpoint: this.endpoint, err: (err as Error).message }, 'originate failed');
      this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: `originate failed: ${(err as Error).message}` });
    }
  }

  onEvent(ev: AriEvent): void {
    this.knownSince ??= Date.now();
    switch (ev.type) {
      case 'ChannelStateChange':
      case 'Dial':
        if (eventChannel(ev)?.state === 'Up') this.answered(eventTime(ev));
        return;
      case 'StasisStart':
        this.inStasis = true;
        this.tryHandOver();
        return;
      case 'ChannelHangupRequest':
        this.requestCause ??= ev.cause;
        return;
      case 'ChannelDestroyed': {
        this.destroyed = true;
        this.ctx.router.removeChannel(this.channelId, this);
        const code = ev.cause ?? this.requestCause;
        this.log.info({ q850: code }, 'originate: the consumer did not take the call');
        this.fail({ status: 'failed', cause: causeName(code, 'NORMAL_TEMPORARY_FAILURE') });
        return;
      }
      default:
        return;
    }
  }

  private answered(at: Date): void {
    if (this.settled || this.upAt) return;
    this.upAt = at;
    if (!this.inStasis) {
      this.stasisTimer = setTimeout(
        () => this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'answered but never entered the Stasis app' }),
        this.ctx.timeouts.stasisStartMs,
      );
    }
    this.tryHandOver();
  }

  private tryHandOver(): void {
    if (this.settled || !this.upAt || !this.inStasis) return;
    this.settled = true;
    clearTimeout(this.deadline);
    clearTimeout(this.stasisTimer);
    const leg = new AsteriskCallLeg(this.channelId, this.ctx, this.log, { answeredAt: this.upAt, callIdTagged: true });
    this.ctx.router.addChannel(this.channelId, leg);
    const info: CallInfo = {
      switchCallId: this.channelId,
      switchName: 'asterisk',
      ani: this.req.to,
      dnis: this.req.callerIdNumber,
      direction: 'outbound',
      campaignId: this.req.campaignId,
      callId: this.req.callId,
      ...(this.req.zip ? { zip: this.req.zip } : {}),
      ...(this.req.leadId ? { leadId: this.req.leadId } : {}),
      extra: { callx_call_id: this.req.callId },
    };
    this.log.info('originate answered; handing the call over');
    this.resolveResult?.({ status: 'answered' });
    try {
      this.onAnswered(leg, info);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'the call handler threw; hanging up');
      void leg.hangup('NORMAL_TEMPORARY_FAILURE');
    }
  }

  private fail(result: Extract<OriginateResult, { status: 'failed' }>): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadline);
    clearTimeout(this.stasisTimer);
    this.resolveResult?.(result);
    if (this.destroyed) {
      this.ctx.router.removeChannel(this.channelId, this);
      return;
    }
    this.ctx.track(
      this.ctx.rest
        .hangup(this.channelId, 'normal')
        .catch((err: unknown) => logCleanupError(this.log, 'hanging up the unanswered consumer leg', err))
        .then(() => this.ctx.router.removeChannel(this.channelId, this)),
    );
  }

  reconcile(live: Map<string, AriChannel>, snapshotAt: number): void {
    if (this.settled) return;
    const snap = live.get(this.channelId);
    if (!snap) {
      if (this.knownSince === undefined || this.knownSince > snapshotAt) return;
      this.destroyed = true;
      this.fail({ status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'consumer channel ended while events were missed' });
      return;
    }
    if (snap.dialplan?.app_name === 'Stasis') this.inStasis = true;
    if (snap.state === 'Up') this.answered(new Date());
    this.tryHandOver();
  }
}
