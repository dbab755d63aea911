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

/**
 * Appends are written in batches, one pipeline per batch, on a connection of the journal's own (it must not
 * be auto-pipelined: see below).
 * - A decision's entry goes out on process.nextTick: it is appended before the switch is told to bridge, in the
 *   same turn of the event loop, and the switch connection flushes its commands on a nextTick queued after this
 *   one, so the entry is on Redis's socket first (if the process dies then, the recorder still finds it).
 *   ioredis's auto-pipelining flushes on setImmediate, after the bridge command: not usable for these.
 * - Attempt and end entries have no such race (the call waits for their acknowledgement before it is done), so
 *   they wait for setImmediate, which under load gathers the entries of every call handled in that turn.
 */
export class RedisCallJournal implements CallJournal {
  private queue: Array<{ entry: string; resolve(): void; reject(err: Error): void }> = [];
  private tickScheduled = false;
  private immediateScheduled = false;

  constructor(private readonly redis: Redis) {}

  append(entry: JournalEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry: JSON.stringify(entry), resolve, reject });
      if (entry.type === 'decided') {
        if (!this.tickScheduled) {
          this.tickScheduled = true;
          process.nextTick(() => {
            this.tickScheduled = false;
            this.flush();
          });
        }
      } else if (!this.immediateScheduled) {
        this.immediateScheduled = true;
        setImmediate(() => {
          this.immediateScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (batch.length === 1) {
      const one = batch[0]!;
      this.redis.xadd(JOURNAL_STREAM, '*', 'e', one.entry).then(() => one.resolve(), one.reject);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { entry } of batch) pipeline.xadd(JOURNAL_STREAM, '*', 'e', entry);
    pipeline.exec().then(
      (results) => {
        batch.forEach((b, i) => {
          const err = results?.[i]?.[0];
          if (err) b.reject(err);
          else b.resolve();
        });
      },
      (err: Error) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}
