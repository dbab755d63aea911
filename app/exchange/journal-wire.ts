import type { JournalEntry } from './call-journal';
import type { DecisionTrace } from './trace';

/**
 * How journal entries travel in the stream. Every entry is its JSON, except a decision's trace, which is sent
 * compact (`traceForm: 'compact'`): with 50 buyers it was ~4.9 KB of the ~6.2 KB a call journals, stringified on
 * the call path. The compact trace leaves out what the recorder can restore exactly:
 * - callId, decidedAt, direction, dnis and ani when they equal the entry's own fields;
 * - the ranking's status and reason columns (all 'lost' and null but for the winner and the passed-over): only
 *   the ranks that differ travel, as `marks: [[index, status, reason], ...]`;
 * - a source column whose bids all came from one source travels as that one string.
 * The ranking's other columns are shared (frozen) by every decision over a cached ranking: their JSON is made once
 * per ranking and reused. The recorder reads both forms (entries of an older node may still be in the stream).
 */

type Decided = Extract<JournalEntry, { type: 'decided' }>;
type Ranked = DecisionTrace['ranked'];
type Mark = [index: number, status: Ranked['status'][number], reason: string | null];

/** The JSON of a ranking's unchanging columns, by its (frozen, shared) targetId column; the columns it was made of. */
const sharedColumnsJson = new WeakMap<readonly string[], { of: readonly unknown[]; json: string }>();

/** The entry as the stream carries it. */
export function encodeJournalEntry(entry: JournalEntry): string {
  if (entry.type !== 'decided' || !isRanking(entry.trace?.ranked)) return JSON.stringify(entry);
  const t = entry.trace;
  // Undefined values are left out by JSON.stringify: the trace without what the entry already says.
  const rest = JSON.stringify({
    ...t,
    callId: t.callId === entry.callId ? undefined : t.callId,
    decidedAt: t.decidedAt === entry.decidedAt ? undefined : t.decidedAt,
    direction: t.direction === entry.direction ? undefined : t.direction,
    dnis: t.dnis === entry.dnis ? undefined : t.dnis,
    ani: t.ani === entry.ani ? undefined : t.ani,
    ranked: undefined,
  });
  const trace = withRawField(rest, 'ranked', rankedJson(t.ranked));
  return withRawField(JSON.stringify({ traceForm: 'compact', ...entry, trace: undefined }), 'trace', trace); // spread last: see decision-entry.ts
}

/** A parsed stream entry as the journal's writer meant it: a compact trace restored whole. */
export function decodeJournalEntry(parsed: JournalEntry): JournalEntry {
  const wire = parsed as JournalEntry & { traceForm?: string };
  if (wire.type !== 'decided' || wire.traceForm !== 'compact') return parsed;
  const { traceForm: _form, ...entry } = wire as Decided & { traceForm?: string };
  const t = entry.trace;
  t.callId ??= entry.callId;
  t.decidedAt ??= entry.decidedAt;
  t.direction ??= entry.direction;
  t.dnis ??= entry.dnis;
  t.ani ??= entry.ani;
  t.ranked = expandRanked(t.ranked as unknown as CompactRanked);
  return entry;
}

interface CompactRanked extends Omit<Ranked, 'status' | 'reason' | 'source'> {
  source: string[] | string;
  marks: Mark[];
}

function rankedJson(r: Ranked): string {
  const marks: Mark[] = [];
  for (let i = 0; i < r.status.length; i++) {
    const status = r.status[i]!;
    const reason = r.reason[i] ?? null;
    if (status !== 'lost' || reason !== null) marks.push([i, status, reason]);
  }
  return `{${columnsJson(r)},"marks":${JSON.stringify(marks)}}`;
}

/** The unchanging columns' JSON (without braces): made once per shared ranking. */
function columnsJson(r: Ranked): string {
  const of = [r.targetId, r.buyerAccountId, r.bidCents, r.score, r.priceCents, r.source];
  const shared = of.every((c) => Object.isFrozen(c));
  const cached = shared ? sharedColumnsJson.get(r.targetId) : undefined;
  if (cached && cached.of.every((c, i) => c === of[i])) return cached.json;
  const source = r.source.length > 0 && r.source.every((s) => s === r.source[0]) ? r.source[0]! : r.source;
  const json = `"targetId":${JSON.stringify(r.targetId)},"buyerAccountId":${JSON.stringify(r.buyerAccountId)},"bidCents":${JSON.stringify(r.bidCents)},"score":${JSON.stringify(r.score)},"priceCents":${JSON.stringify(r.priceCents)},"source":${JSON.stringify(source)}`;
  if (shared) sharedColumnsJson.set(r.targetId, { of, json });
  return json;
}

function expandRanked(c: CompactRanked): Ranked {
  const n = c.targetId.length;
  const status = new Array<Ranked['status'][number]>(n).fill('lost');
  const reason = new Array<string | null>(n).fill(null);
  for (const [i, s, why] of c.marks) {
    status[i] = s;
    reason[i] = why;
  }
  const source = typeof c.source === 'string' ? new Array<string>(n).fill(c.source) : c.source;
  return { targetId: c.targetId, buyerAccountId: c.buyerAccountId, bidCents: c.bidCents, score: c.score, priceCents: c.priceCents, source, status, reason };
}

/** A trace's ranking as the router makes it (tests journal traces without one: those travel as they are). */
function isRanking(r: Ranked | undefined): r is Ranked {
  return !!r && Array.isArray(r.targetId) && Array.isArray(r.status) && Array.isArray(r.reason) && Array.isArray(r.source) && r.status.length === r.targetId.length && r.reason.length === r.targetId.length && r.source.length === r.targetId.length;
}

/** An object's JSON with one more field whose value is already JSON. */
function withRawField(objectJson: string, key: string, valueJson: string): string {
  const field = `"${key}":${valueJson}`;
  return objectJson === '{}' ? `{${field}}` : `${objectJson.slice(0, -1)},${field}}`;
}
