/**
 * The caller leg of a call this adapter did not set up (or set up before a restart), taken over from the switch:
 * it has no outbound socket, so it is followed over the inbound ESL connection. It reports the call's real end
 * from the caller's CHANNEL_HANGUP_COMPLETE (end time, cause, who hung up, from the recorded variables) and never
 * touches the buyer leg. It cannot be bridged again; hangup() is `uuid_kill` of the caller leg only.
 */
import type { Logger } from '../../observability/logger';
import type { BridgeOutcome, CallLeg, HangupCause, LegEnd } from '../port';
import type { EslHeaders } from './headers';
import type { InboundEventName } from './inbound-client';
import { hungUpBy } from './outcome';

const SAFE_CAUSE = /^[A-Z_]{3,40}$/;

export class AdoptedCallLeg implements CallLeg {
  private endedFlag = false;
  private end: LegEnd | undefined;
  private readonly listeners: Array<(end: LegEnd) => void> = [];
  private requestedHangup = false;
  private unbridgedFirst = false;
  /** Left on the switch at stop: no end is reported from now on (the call is not over). */
  private released = false;

  constructor(
    readonly id: string,
    private readonly kill: (cause: string) => Promise<void>,
    private readonly log: Logger,
  ) {}

  get ended(): boolean {
    return this.endedFlag;
  }

  async answer(): Promise<void> {
    // An adopted call was answered long ago.
  }

  async bridge(): Promise<BridgeOutcome> {
    this.log.warn('bridge asked of an adopted call; refused (it is already bridged or being handed to the fallback)');
    return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'an adopted call cannot be bridged again' };
  }

  async playAndHangup(_prompt: string, cause: HangupCause): Promise<void> {
    await this.hangup(cause);
  }

  async hangup(cause: HangupCause): Promise<void> {
    if (this.endedFlag) return;
    this.requestedHangup = true;
    try {
      await this.kill(SAFE_CAUSE.test(cause) ? cause : 'NORMAL_CLEARING');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'adopted call: uuid_kill failed');
    }
  }

  onEnded(listener: (end: LegEnd) => void): void {
    if (this.end) {
      const end = this.end;
      queueMicrotask(() => listener(end));
    } else {
      this.listeners.push(listener);
    }
  }

  /** An inbound event about this leg's channel. */
  handleEvent(name: InboundEventName, h: EslHeaders): void {
    if (name === 'CHANNEL_UNBRIDGE') {
      // The buyer ended the bridge if the caller was still up when it ended (as on the outbound socket).
      if (h.get('Answer-State') !== 'hangup') this.unbridgedFirst = true;
      return;
    }
    if (name !== 'CHANNEL_HANGUP_COMPLETE') return;
    const endedAt = h.micros('variable_end_uepoch') ?? h.eventTime();
    const end: LegEnd = {
      endedAt,
      cause: h.variable('hangup_cause') ?? h.get('Hangup-Cause') ?? 'NORMAL_CLEARING',
      hungUpBy: hungUpBy({
        requestedByUs: this.requestedHangup,
        wasBridged: h.micros('variable_bridge_uepoch') !== undefined,
        unbridgedFirst: this.unbridgedFirst,
        sipDisposition: h.variable('sip_hangup_disposition'),
      }),
    };
    const answeredAt = h.micros('variable_answer_uepoch') ?? h.micros('Caller-Channel-Answered-Time');
    const bridgedAt = h.micros('variable_bridge_uepoch') ?? h.micros('Caller-Channel-Bridged-Time');
    if (answeredAt) end.answeredAt = answeredAt;
    if (bridgedAt) end.bridgedAt = bridgedAt;
    this.finish(end);
  }

  /**
   * The channel is gone and its HANGUP_COMPLETE was missed (the inbound connection was down): the end is reported
   * with what is known, now, and said so in the log.
   */
  goneUnseen(): void {
    this.log.warn('adopted call ended while the inbound connection was down; its end time and cause are not known');
    this.finish({ endedAt: new Date(), cause: 'NORMAL_CLEARING', hungUpBy: 'unknown' });
  }

  /** The adapter stops: the call goes on, on the switch, for another node to adopt; its end is not ours to report. */
  release(): void {
    this.released = true;
  }

  private finish(end: LegEnd): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    if (this.released) return;
    this.end = end;
    this.log.info({ cause: end.cause, hungUpBy: end.hungUpBy }, 'adopted call ended');
    for (const fn of this.listeners.splice(0)) {
      try {
        fn(end);
      } catch (err) {
        this.log.error({ err }, 'onEnded listener threw');
      }
    }
  }
}
