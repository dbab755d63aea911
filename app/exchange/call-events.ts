import { EventEmitter } from 'node:events';

/**
 * Live call events, as a call moves through the exchange on this node. The realtime layer forwards them to
 * socket.io rooms (per account; agents and operators see all); nothing on the call path waits for listeners.
 */
export type CallEvent =
  | { type: 'call.started'; callId: string; at: string; direction: 'inbound' | 'outbound'; ani: string; dnis: string; switchName: string }
  | { type: 'call.decided'; callId: string; at: string; campaignId?: string; sellerAccountId?: string; outcome: 'route' | 'reject'; rejectReason?: string; screeningReasons: string[]; winnerTargetId?: string; winnerBuyerId?: string; priceCents?: number; decisionUs: number }
  | { type: 'call.attempt'; callId: string; at: string; attemptNo: number; targetId: string; buyerAccountId: string; status: string; cause?: string; sellerAccountId?: string }
  | { type: 'call.bridged'; callId: string; at: string; targetId: string; buyerAccountId: string; priceCents: number; sellerAccountId?: string }
  | { type: 'call.ended'; callId: string; at: string; outcome: string; endReason: string; durationSec: number; billableSec: number; hangupCause: string; sellerAccountId?: string; buyerAccountId?: string; priceCents?: number; endIsLowerBound?: boolean };

export class CallEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit(event: CallEvent): void {
    // A failing listener must never break a call.
    try {
      this.emitter.emit('event', event);
    } catch {
      /* listeners log their own failures */
    }
  }

  on(listener: (event: CallEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
