import type { BridgeOptions, BridgeOutcome, CallLeg, Destination, HangupCause, LegEnd } from '../../app/switch/port';

/**
 * A minimal in-test caller leg for driving the pipeline through the switch port before (and besides) the
 * real adapters. Each bridge attempt asks `answer(destination)` what the buyer does.
 */
export type BuyerBehaviour =
  | { kind: 'answer'; talkMs?: number; hungUpBy?: 'caller' | 'buyer' }
  | { kind: 'hold' } // answer and stay up until the test calls hangupByCaller()
  | { kind: 'busy' }
  | { kind: 'no_answer' }
  | { kind: 'fail' }
  | { kind: 'switch_fault' }; // the switch refused the buyer leg itself (throttle)

export class ScriptedLeg implements CallLeg {
  ended = false;
  readonly bridged: string[] = [];
  readonly attempts: Array<{ uri: string; opts: BridgeOptions }> = [];
  prompt?: { name: string; cause: HangupCause };
  private listeners: Array<(e: LegEnd) => void> = [];
  private answeredAt?: Date;
  private bridgedAt?: Date;
  endInfo?: LegEnd;

  constructor(readonly id: string, private readonly behaviour: (uri: string) => BuyerBehaviour = () => ({ kind: 'answer', talkMs: 10 })) {}

  async answer(): Promise<void> {
    this.answeredAt ??= new Date();
  }

  async bridge(to: Destination, opts: BridgeOptions): Promise<BridgeOutcome> {
    this.attempts.push({ uri: to.uri, opts });
    if (this.ended) return { status: 'caller_gone', cause: 'ORIGINATOR_CANCEL' };
    const b = this.behaviour(to.uri);
    await new Promise((r) => setImmediate(r));
    if (this.ended) return { status: 'caller_gone', cause: 'ORIGINATOR_CANCEL' };
    switch (b.kind) {
      case 'busy':
        return { status: 'busy', cause: 'USER_BUSY' };
      case 'no_answer':
        return { status: 'no_answer', cause: 'NO_ANSWER' };
      case 'fail':
        return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE' };
      case 'switch_fault':
        return { status: 'switch_fault', cause: 'DESTINATION_OUT_OF_ORDER', detail: 'throttled' };
      default: {
        const now = new Date();
        this.answeredAt ??= now;
        this.bridgedAt = now;
        this.bridged.push(to.uri);
        if (b.kind === 'answer') setTimeout(() => this.end('NORMAL_CLEARING', b.hungUpBy ?? 'caller'), b.talkMs ?? 10);
        return { status: 'bridged', answeredAt: now };
      }
    }
  }

  async playAndHangup(prompt: string, cause: HangupCause): Promise<void> {
    this.prompt = { name: prompt, cause };
    this.end(cause, 'system');
  }

  async hangup(cause: HangupCause): Promise<void> {
    this.end(cause, 'system');
  }

  hangupByCaller(): void {
    this.end('NORMAL_CLEARING', 'caller');
  }

  onEnded(listener: (end: LegEnd) => void): void {
    if (this.endInfo) listener(this.endInfo);
    else this.listeners.push(listener);
  }

  private end(cause: HangupCause, hungUpBy: LegEnd['hungUpBy']): void {
    if (this.ended) return;
    this.ended = true;
    this.endInfo = { endedAt: new Date(), cause, hungUpBy, answeredAt: this.answeredAt, bridgedAt: this.bridgedAt };
    for (const l of this.listeners) l(this.endInfo);
    this.listeners = [];
  }
}
