import type { Redis } from 'ioredis';
import type { DecisionTrace } from './trace';
import { encodeJournalEntry } from './journal-wire';

/**
 * The call journal: a write-ahead log of what happened to each call, in a Redis stream.
 * The call path appends (one XADD, well under a millisecond) and moves on; the recorder
 * (app/store/call-recorder.ts) copies entries into Postgres and only then acknowledges them. If the app
 * dies after a decision, the entries are still in the stream and the next recorder (any node) writes them.
 * Every entry carries the call's identity so entries can be applied in any order (see the recorder).
 * Entries travel as JSON, a decision's trace in a compact form (journal-wire.ts).
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
      /**
       * present when screening ran: every decision, pass or block, is audited. `reasons` and `checkedAt` are left
       * out when they are the trace's screening checks and the decision time (the call path's entries): the
       * recorder takes them from there, so the checks are not sent twice.
       */
      audit?: { decision: 'pass' | 'block'; reasons?: unknown; checkedAt?: string };
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
      /** the end is when the call was last known alive (closed node_lost): it really ended then or later */
      endIsLowerBound?: true;
    });

export interface CallJournal {
  append(entry: JournalEntry): Promise<void>;
}

/**
 * Appends are written in batches: entries appended in the same turn of the event loop (the continuations of
 * several calls often run off one Redis reply) leave as one pipeline on process.nextTick, on a connection of the
 * journal's own. nextTick, not setImmediate (ioredis's auto-pipelining), keeps the journal's promise: an entry
 * is on Redis's socket before the turn ends, so a decision's entry is there before the switch is told to bridge
 * (the switch connection flushes on a nextTick queued after this one), and an attempt's before the process could
 * die in a later turn.
 */
/**
 * A write other than a journal entry that rides in the journal's next batch: the live-call registry's, and a
 * bridged call's concurrency slot given back at its end (a ZREM, what the cap release script does for it).
 * Redis applies a batch's commands in order, so a call's end costs one round trip: slot, entry, registry.
 */
export type BatchedWrite =
  | { op: 'hset'; key: string; field: string; value: string }
  | { op: 'hdel'; key: string; field: string }
  | { op: 'zrem'; key: string; member: string };

/** Anything that takes BatchedWrites (the journal): the registry and the cap ledger write through it. */
export interface BatchWriter {
  write(w: BatchedWrite): Promise<void>;
}

type Queued = { entry?: string; other?: BatchedWrite; resolve(): void; reject(err: Error): void };

export class RedisCallJournal implements CallJournal, BatchWriter {
  private queue: Queued[] = [];

  constructor(private readonly redis: Redis) {}

  append(entry: JournalEntry): Promise<void> {
    return this.enqueue({ entry: encodeJournalEntry(entry) });
  }

  /**
   * Sends another write with the next batch: a call's registry entry changes when its journal does (decision,
   * attempt, end), so the two share one pipeline and one socket write instead of the registry costing its own.
   */
  write(other: BatchedWrite): Promise<void> {
    return this.enqueue({ other });
  }

  private enqueue(item: Pick<Queued, 'entry' | 'other'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.queue.length === 0) process.nextTick(() => this.flush());
      this.queue.push({ entry: item.entry, other: item.other, resolve, reject }); // not a spread: see decision-entry.ts
    });
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (batch.length === 1 && batch[0]!.entry !== undefined) {
      const one = batch[0]!;
      this.redis.xadd(JOURNAL_STREAM, '*', 'e', one.entry!).then(() => one.resolve(), one.reject);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { entry, other } of batch) {
      if (entry !== undefined) pipeline.xadd(JOURNAL_STREAM, '*', 'e', entry);
      else if (other!.op === 'hset') pipeline.hset(other!.key, other!.field, other!.value);
      else if (other!.op === 'hdel') pipeline.hdel(other!.key, other!.field);
      else pipeline.zrem(other!.key, other!.member);
    }
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
