import type { DecisionTrace } from './trace';

/**
 * A decision trace as the call journal carries it: the same trace, smaller. Its largest part, the ranking's and
 * the exclusions' columns, is mostly one value repeated (every bid `standing`, every status `lost`, every reason
 * `null`), and the trace repeats the entry's identity (call id, numbers, direction, decision time). Every byte of
 * the entry is encoded, written to Redis's socket and parsed again by the recorder, on the call path (issue 17: the
 * journal's writes were ~7% of a call node's CPU), so the journal sends a column that is one value with a few
 * exceptions as `{ fill, at }`, and leaves the identity out. The recorder expands it back (expandTrace): what it
 * stores is exactly the trace the router built.
 */
export type JournalColumn<T> = T[] | { fill: T; at?: Record<string, T> };

type Columns<G> = { [K in keyof G]: G[K] extends Array<infer T> ? JournalColumn<T> : never };

export type JournalTrace = Omit<DecisionTrace, 'ranked' | 'excluded' | 'callId' | 'dnis' | 'ani' | 'direction' | 'decidedAt'> & {
  ranked: Columns<DecisionTrace['ranked']>;
  excluded: Columns<DecisionTrace['excluded']>;
  /** present when the trace's identity differs from the entry's (never for the call path's own entries) */
  callId?: string;
  dnis?: string;
  ani?: string;
  direction?: DecisionTrace['direction'];
  decidedAt?: string;
};

/** What expandTrace takes the identity from: the journal entry. */
export interface TraceIdentity {
  callId: string;
  dnis: string;
  ani: string;
  direction: DecisionTrace['direction'];
  decidedAt: string;
}

/**
 * A column as `{ fill, at }` when most of it is one value: the last rank's (a ranking's losers, its shared source
 * and reason). One pass without allocating, given up as soon as a quarter differs (ids, bids and scores at once), so
 * the compaction costs less than the bytes it saves.
 */
function compactColumn<T>(values: T[]): JournalColumn<T> {
  const n = values.length;
  if (n < 4) return values;
  const fill = values[n - 1] as T;
  const limit = n >> 2;
  let exceptions = 0;
  for (let i = 0; i < n; i++) if (values[i] !== fill && ++exceptions > limit) return values;
  if (exceptions === 0) return { fill };
  const at: Record<string, T> = {};
  for (let i = 0; i < n; i++) if (values[i] !== fill) at[i] = values[i] as T;
  return { fill, at };
}

function expandColumn<T>(column: JournalColumn<T> | undefined, length: number): T[] {
  if (column === undefined) return [];
  if (Array.isArray(column)) return column;
  const out = new Array<T>(length).fill(column.fill);
  if (column.at) for (const i in column.at) out[Number(i)] = column.at[i]!;
  return out;
}

/** Every column but targetId, which stays an array: its length is the group's. */
function compactColumns<G extends Record<string, unknown[]>>(group: G): Columns<G> {
  const out: Record<string, unknown> = {};
  for (const k in group) out[k] = k === 'targetId' ? group[k] : compactColumn(group[k]!);
  return out as Columns<G>;
}

/** The trace for the journal: compact columns, without the entry's identity when it matches. */
export function compactTrace(trace: DecisionTrace, identity: TraceIdentity): JournalTrace {
  const { ranked, excluded, callId, dnis, ani, direction, decidedAt, ...rest } = trace;
  const out: JournalTrace = { ...rest, ranked: compactColumns(ranked), excluded: compactColumns(excluded) };
  if (callId !== identity.callId) out.callId = callId;
  if (dnis !== identity.dnis) out.dnis = dnis;
  if (ani !== identity.ani) out.ani = ani;
  if (direction !== identity.direction) out.direction = direction;
  if (decidedAt !== identity.decidedAt) out.decidedAt = decidedAt;
  return out;
}

/** The trace as the router built it, from a journal entry's (compact or, from an older node, full) trace. */
export function expandTrace(trace: JournalTrace | DecisionTrace, identity: TraceIdentity): DecisionTrace {
  const r = trace.ranked as Columns<DecisionTrace['ranked']>;
  const x = trace.excluded as Columns<DecisionTrace['excluded']>;
  const nr = Array.isArray(r.targetId) ? r.targetId.length : 0;
  const nx = Array.isArray(x.targetId) ? x.targetId.length : 0;
  return {
    ...trace,
    callId: trace.callId ?? identity.callId,
    dnis: trace.dnis ?? identity.dnis,
    ani: trace.ani ?? identity.ani,
    direction: trace.direction ?? identity.direction,
    decidedAt: trace.decidedAt ?? identity.decidedAt,
    ranked: {
      targetId: expandColumn(r.targetId, nr),
      buyerAccountId: expandColumn(r.buyerAccountId, nr),
      bidCents: expandColumn(r.bidCents, nr),
      score: expandColumn(r.score, nr),
      priceCents: expandColumn(r.priceCents, nr),
      source: expandColumn(r.source, nr),
      status: expandColumn(r.status, nr),
      reason: expandColumn(r.reason, nr),
    },
    excluded: {
      targetId: expandColumn(x.targetId, nx),
      buyerAccountId: expandColumn(x.buyerAccountId, nx),
      bidCents: expandColumn(x.bidCents, nx),
      source: expandColumn(x.source, nx),
      reason: expandColumn(x.reason, nx),
      detail: expandColumn(x.detail, nx),
    },
  };
}
