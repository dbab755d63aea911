/**
 * The one report source for the overview's cards and chart: one request for a range, summed per campaign for the
 * cards and per bucket for the chart, so both show the same figures (the same calls, the same cents, the same
 * rounding, done once by dollars()).
 */
import type { Api } from '../api';
import type { ReportRowView } from '../format';

export type RangeName = 'hour' | 'today' | 'week';
export const RANGES: Array<[RangeName, string]> = [['hour', 'Last hour'], ['today', 'Today (UTC)'], ['week', 'Last 7 days']];

export interface Range {
  from: Date;
  to: Date;
  bucket: 'minute' | 'hour' | 'day';
  /** bucket length in ms, for the chart's x axis */
  stepMs: number;
}

export function rangeOf(name: RangeName, now: Date): Range {
  const to = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  if (name === 'hour') return { from: new Date(to.getTime() - 61 * 60_000), to, bucket: 'minute', stepMs: 60_000 };
  if (name === 'today') return { from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())), to, bucket: 'hour', stepMs: 3_600_000 };
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(dayStart - 6 * 86_400_000), to, bucket: 'day', stepMs: 86_400_000 };
}

/** The report's rows for a range and grouping, with every money figure present (0 where the role sees none). */
export async function fetchReport(api: Api, groupBy: 'campaign' | 'seller' | 'buyer', from: Date, to: Date, bucket: Range['bucket']): Promise<ReportRowView[]> {
  const body = await api.get<{ rows?: Array<Record<string, unknown>>; items?: Array<Record<string, unknown>> }>(
    `/v1/reports/calls?groupBy=${groupBy}&bucket=${bucket}&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`,
  );
  return (body.rows ?? body.items ?? []).map((r) => ({
    bucket: String(r.bucket),
    key: r[groupBy] === null || r[groupBy] === undefined ? '' : String(r[groupBy]),
    calls: Number(r.calls ?? 0),
    bridged: Number(r.bridged ?? 0),
    conversions: Number(r.conversions ?? 0),
    revenueCents: Number(r.revenueCents ?? 0),
    payoutCents: Number(r.payoutCents ?? 0),
    marginCents: Number(r.marginCents ?? 0),
  }));
}

/** The money a role's figures are in: a seller's payout, everyone else's revenue (a buyer's spend). */
export const moneyOf = (role: string, r: { revenueCents: number; payoutCents: number }): number => (role === 'seller' ? r.payoutCents : r.revenueCents);
