import type { Redis } from 'ioredis';
import type { DecisionTrace } from './trace';

/**
 * The call journal: a write-ahead log of what happened to each call, in a Redis stream.
 * The call path appends (one XADD, well under a millisecond) and moves on; the recorder
 * (app/store/call-recorder.ts) copies entries into Postgres and only then acknowledges them. If the app
 * dies after a decision, the entries are still in the stream and the next recorder (any node) writes them.
 * Every entry carries the call's identity so entries can be applied in any order (see the recorder).
 */
export const JOURNAL_STREAM = 'journal:calls';
export const JOURNAL_GROUP = 'recorder';

export interface CallIdentity {
  callId: string;
  direction: 'inbound' | 'outbound';
  ani: string;
  dnis: string;
  startedAt: string;
  switchName: string;
  switchCallId: string;
}

export type JournalEntry =
  | (CallIdentity & {
      type: 'decided';
      campaignId?: string;
      sellerAccountId?: string;
      attestation?: string;
      zip?: string;
      leadId?: string;
      outcome: 'routed' | 'rejected';
      rejectReason?: string;
      winnerTargetId?: string;
      winnerBuyerId?: string;
      priceCents?: number;
      decidedAt: string;
      trace: DecisionTrace;
      /** present when screening ran: every decision, pass or block, is audited */
      audit?: { decision: 'pass' | 'block'; reasons: unknown; checkedAt: string };
    })
  | (CallIdentity & {
      type: 'attempt';
      attemptNo: number;
      targetId: string;
      buyerAccountId: string;
      destination: string;
      attemptStartedAt: string;
      attemptEndedAt: string;
      status: string;
      cause?: string;
      priceCents?: number;
    })
  | (CallIdentity & {
      type: 'ended';
      /** routed_bridged | rejected | no_buyer_answered | abandoned | failed */
      outcome: string;
      rejectReason?: string;
      endReason: string;
      endedAt: string;
      answeredAt?: string;
      bridgedAt?: string;
      hangupCause: string;
      hungUpBy: string;
      durationSec: number;
      billableSec: number;
      winnerTargetId?: string;
      winnerBuyerId?: string;
      priceCents?: number;
    });

export interface CallJournal {
  append(entry: JournalEntry): Promise<void>;
}

export class RedisCallJournal implements CallJournal {
  constructor(private readonly redis: Redis) {}

  async append(entry: JournalEntry): Promise<void> {
    await this.redis.xadd(JOURNAL_STREAM, '*', 'e', JSON.stringify(entry));
  }
}
