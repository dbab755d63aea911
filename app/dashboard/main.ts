/**
 * The operators' and agents' dashboard: live calls (socket.io /live), today's counters per campaign and the last
 * hour per minute (GET /v1/reports/calls), and the decision trace of a selected call (GET /v1/calls/:id). The
 * API key is kept in sessionStorage for this tab only; every request and the socket carry it.
 */
import { io, type Socket } from 'socket.io-client';

type CallEvent =
  | { type: 'call.started'; callId: string; at: string; ani: string; dnis: string }
  | { type: 'call.decided'; callId: string; at: string; campaignId?: string; outcome: 'route' | 'reject'; rejectReason?: string; screeningReasons: string[]; winnerBuyerId?: string; priceCents?: number }
  | { type: 'call.attempt'; callId: string; at: string; attemptNo: number; buyerAccountId: string; status: string }
  | { type: 'call.bridged'; callId: string; at: string; buyerAccountId: string; priceCents: number }
  | { type: 'call.ended'; callId: string; at: string; outcome: string; durationSec: number; priceCents?: number; buyerAccountId?: string };

interface CallRow {
  id: string;
  startedAt: string;
  ani: string;
  dnis: string;
  campaignId: string;
  /** `live` until the call ends */
  state: 'live' | 'ended';
  status: string;
  buyer: string;
  priceCents?: number;
  durationSec?: number;
}

interface ReportRow {
  bucket: string;
  campaign: string;
  calls: number;
  bridged: number;
  conversions: number;
  revenueCents: number;
}

/**
 * A report row as the dashboard shows it. The API shows each role its own money (app/api/projections.ts): a
 * seller gets its payout, not what buyers paid; for a seller that payout is its revenue.
 */
const asShown = (rows: Array<Omit<ReportRow, 'revenueCents'> & { revenueCents?: number; payoutCents?: number }>): ReportRow[] =>
  rows.map((r) => ({ ...r, revenueCents: r.revenueCents ?? r.payoutCents ?? 0 }));

const KEY_STORAGE = 'callx.apiKey';
const MAX_ROWS = 100;
const REPORT_REFRESH_MS = 5_000;

const $ = <T extends HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
};

class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function api<T>(key: string, path: string): Promise<T> {
  const r = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  const body = (await r.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!r.ok) throw new ApiError(r.status, body.error?.message ?? `HTTP ${r.status}`);
  return body as T;
}

const money = (cents: number | undefined): string => (cents === undefined ? '' : `$${(cents / 100).toFixed(2)}`);
const time = (iso: string): string => new Date(iso).toLocaleTimeString();
const text = (s: string | number | undefined): string => (s === undefined ? '' : String(s));
const endStatus = (outcome: string, rejectReason?: string | null): string => (outcome === 'rejected' && rejectReason ? `rejected: ${rejectReason}` : outcome);

function cell(row: HTMLTableRowElement, value: string, className?: string): void {
  const td = row.insertCell();
  td.textContent = value;
  if (className) td.className = className;
}

class Dashboard {
  private readonly calls = new Map<string, CallRow>();
  private socket: Socket | undefined;
  private timers: number[] = [];
  private refreshSoon: number | undefined;
  private selected: string | undefined;
  private today: ReportRow[] = [];

  constructor(private readonly key: string) {}

  async start(): Promise<void> {
    const page = await api<{ items: Array<Record<string, unknown>> }>(this.key, '/v1/calls?limit=50');
    for (const c of page.items.reverse()) {
      this.calls.set(String(c.id), {
        id: String(c.id),
        startedAt: String(c.startedAt),
        ani: String(c.ani),
        dnis: String(c.dnis),
        campaignId: text(c.campaignId as string | undefined),
        state: c.endedAt ? 'ended' : 'live',
        status: c.endedAt ? endStatus(String(c.outcome), c.rejectReason as string | null) : c.bridgedAt ? 'bridged' : 'in progress',
        buyer: text(c.winnerBuyerId as string | undefined),
        priceCents: typeof c.priceCents === 'number' ? c.priceCents : undefined,
        durationSec: typeof c.durationSec === 'number' ? c.durationSec : undefined,
      });
    }
    this.renderCalls();
    this.connect();
    await this.refreshReports();
    this.timers.push(window.setInterval(() => void this.refreshReports(), REPORT_REFRESH_MS));
  }

  stop(): void {
    this.socket?.disconnect();
    for (const t of this.timers) clearInterval(t);
  }

  private connect(): void {
    const status = $('#live-status');
    const socket = io(window.location.origin, { path: '/live', auth: { token: this.key }, transports: ['websocket'] });
    this.socket = socket;
    socket.on('ready', (who: { role: string; accountId: string | null }) => {
      $('#whoami').textContent = who.accountId ? `${who.role} · ${who.accountId}` : who.role;
      status.textContent = 'live';
      status.dataset.state = 'on';
    });
    socket.on('disconnect', () => {
      status.textContent = 'reconnecting…';
      status.dataset.state = 'off';
    });
    socket.on('connect_error', (err: Error) => {
      status.textContent = `offline: ${err.message}`;
      status.dataset.state = 'off';
    });
    socket.on('call', (e: CallEvent) => this.onEvent(e));
  }

  private onEvent(e: CallEvent): void {
    let row = this.calls.get(e.callId);
    if (!row) {
      if (e.type !== 'call.started') return; // a call that began before we connected and is not in the page
      row = { id: e.callId, startedAt: e.at, ani: e.ani, dnis: e.dnis, campaignId: '', state: 'live', status: 'screening', buyer: '' };
      this.calls.set(e.callId, row);
      while (this.calls.size > MAX_ROWS) this.calls.delete(this.calls.keys().next().value!);
    }
    switch (e.type) {
      case 'call.decided':
        row.campaignId = e.campaignId ?? '';
        row.status = e.outcome === 'route' ? 'ringing buyers' : `rejected: ${e.rejectReason ?? ''}${e.screeningReasons.length ? ` (${e.screeningReasons.join(', ')})` : ''}`;
        row.buyer = e.winnerBuyerId ?? '';
        row.priceCents = e.priceCents;
        break;
      case 'call.attempt':
        row.status = `attempt ${e.attemptNo}: ${e.buyerAccountId} ${e.status}`;
        break;
      case 'call.bridged':
        row.status = 'bridged';
        row.buyer = e.buyerAccountId;
        row.priceCents = e.priceCents;
        break;
      case 'call.ended':
        row.state = 'ended';
        // A rejected call keeps the reason it was refused for.
        if (!(e.outcome === 'rejected' && row.status.startsWith('rejected'))) row.status = endStatus(e.outcome);
        row.durationSec = e.durationSec;
        if (e.buyerAccountId) row.buyer = e.buyerAccountId;
        if (e.priceCents !== undefined) row.priceCents = e.priceCents;
        // Counters and the chart come from the recorded calls: refresh once the burst of ends settles.
        window.clearTimeout(this.refreshSoon);
        this.refreshSoon = window.setTimeout(() => void this.refreshReports(), 1500);
        if (this.selected === e.callId) void this.showTrace(e.callId);
        break;
      default:
        break;
    }
    this.renderCalls();
    this.renderCampaigns();
  }

  private renderCalls(): void {
    const tbody = $('#calls tbody');
    tbody.replaceChildren();
    for (const c of [...this.calls.values()].reverse()) {
      const tr = document.createElement('tr');
      tr.dataset.callId = c.id;
      tr.dataset.state = c.state;
      tr.classList.add(c.state);
      if (c.id === this.selected) tr.classList.add('selected');
      cell(tr, time(c.startedAt));
      cell(tr, c.ani);
      cell(tr, c.dnis);
      cell(tr, c.campaignId);
      cell(tr, c.status, `status status-${c.status.split(':')[0]}`);
      cell(tr, c.buyer, 'buyer');
      cell(tr, money(c.priceCents), 'price');
      cell(tr, c.durationSec === undefined ? '' : `${c.durationSec} s`, 'duration');
      tr.addEventListener('click', () => void this.showTrace(c.id));
      tbody.append(tr);
    }
  }

  private async refreshReports(): Promise<void> {
    const now = new Date();
    const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const until = new Date(now.getTime() + 60_000).toISOString();
    try {
      const today = await api<{ rows: Parameters<typeof asShown>[0] }>(this.key, `/v1/reports/calls?groupBy=campaign&bucket=day&from=${dayStart.toISOString()}&to=${until}`);
      this.today = asShown(today.rows);
      this.renderCampaigns();
      const hourAgo = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60 * 60_000);
      const lastHour = await api<{ rows: Parameters<typeof asShown>[0] }>(this.key, `/v1/reports/calls?groupBy=campaign&bucket=minute&from=${hourAgo.toISOString()}&to=${until}`);
      this.renderChart(asShown(lastHour.rows), hourAgo);
    } catch (err) {
      console.warn('reports failed', err);
    }
  }

  /** Today's recorded counters per campaign, and the calls up right now (from the live events). */
  private renderCampaigns(): void {
    const live = new Map<string, number>();
    for (const c of this.calls.values()) if (c.state === 'live' && c.campaignId) live.set(c.campaignId, (live.get(c.campaignId) ?? 0) + 1);
    const rows = [...this.today];
    for (const campaign of live.keys()) {
      if (!rows.some((r) => r.campaign === campaign)) rows.push({ bucket: '', campaign, calls: 0, bridged: 0, conversions: 0, revenueCents: 0 });
    }
    rows.sort((a, b) => (a.campaign ?? '').localeCompare(b.campaign ?? ''));
    const tbody = $('#campaigns tbody');
    tbody.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.campaign = r.campaign ?? '';
      cell(tr, r.campaign ?? '(none)');
      cell(tr, String(live.get(r.campaign) ?? 0), 'live');
      cell(tr, String(r.calls), 'calls');
      cell(tr, String(r.bridged), 'bridged');
      cell(tr, String(r.conversions), 'conversions');
      cell(tr, money(r.revenueCents), 'revenue');
      tbody.append(tr);
    }
  }

  /**
   * Bars: calls per minute; line: revenue per minute; each scaled to its own maximum, which the top corners
   * name. The minute buckets are UTC minutes, from an hour ago to now.
   */
  private renderChart(rows: ReportRow[], from: Date): void {
    const minutes = 61;
    const start = Math.floor(from.getTime() / 60_000) * 60_000;
    const calls = new Array<number>(minutes).fill(0);
    const revenue = new Array<number>(minutes).fill(0);
    for (const r of rows) {
      const i = Math.floor((new Date(r.bucket).getTime() - start) / 60_000);
      if (i < 0 || i >= minutes) continue;
      calls[i]! += r.calls;
      revenue[i]! += r.revenueCents;
    }
    const width = 600;
    const top = 14;
    const bottom = 150;
    const h = bottom - top;
    const w = width / minutes;
    const maxCalls = Math.max(1, ...calls);
    const maxRevenue = Math.max(1, ...revenue);
    const svg = $('#chart');
    const ns = 'http://www.w3.org/2000/svg';
    const el = (name: string, attrs: Record<string, string | number>, content?: string): SVGElement => {
      const e = document.createElementNS(ns, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (content !== undefined) e.textContent = content;
      return e;
    };
    svg.replaceChildren();
    svg.append(el('line', { x1: 0, x2: width, y1: bottom, y2: bottom, class: 'axis' }));
    calls.forEach((n, i) => {
      if (n === 0) return;
      const bh = (n / maxCalls) * h;
      const bar = el('rect', { x: i * w + 1, y: bottom - bh, width: Math.max(1, w - 2), height: bh, class: 'calls' });
      bar.dataset.calls = String(n);
      bar.append(el('title', {}, `${new Date(start + i * 60_000).toLocaleTimeString()}: ${n} calls, ${money(revenue[i])}`));
      svg.append(bar);
    });
    svg.append(el('polyline', { points: revenue.map((c, i) => `${i * w + w / 2},${bottom - (c / maxRevenue) * h}`).join(' '), class: 'revenue' }));
    const totalCalls = calls.reduce((a, b) => a + b, 0);
    const totalRevenue = revenue.reduce((a, b) => a + b, 0);
    svg.append(
      el('text', { x: 2, y: 10, class: 'label' }, `max ${Math.max(...calls)} calls/min`),
      el('text', { x: width - 2, y: 10, class: 'label end' }, `max ${money(Math.max(...revenue))}/min`),
      el('text', { x: 2, y: 164, class: 'label' }, '60 min ago'),
      el('text', { x: width / 2, y: 164, class: 'label middle' }, `30 min · ${totalCalls} calls, ${money(totalRevenue)} in the hour`),
      el('text', { x: width - 2, y: 164, class: 'label end' }, 'now'),
    );
    svg.dataset.totalCalls = String(totalCalls);
    svg.dataset.totalRevenueCents = String(totalRevenue);
  }

  private async showTrace(callId: string): Promise<void> {
    this.selected = callId;
    this.renderCalls();
    const card = $('#trace-card');
    const out = $('#trace');
    card.hidden = false;
    $('#trace-call').textContent = callId;
    try {
      const call = await api<Record<string, unknown> & { trace?: Trace | null; attempts: Array<Record<string, unknown>> }>(this.key, `/v1/calls/${encodeURIComponent(callId)}`);
      out.replaceChildren(renderTrace(call));
    } catch (err) {
      out.textContent = err instanceof ApiError && err.status === 404 ? 'This call is not recorded yet; it will show once it is.' : `Could not load the call: ${(err as Error).message}`;
    }
  }
}

interface Trace {
  outcome: string;
  rejectReason?: string;
  rejectDetail?: string;
  winnerTargetId?: string;
  priceCents?: number;
  screening?: { pass: boolean; checks?: Array<{ rule: string; pass: boolean; reason?: string; detail?: string }> };
  ranked: { targetId: string[]; buyerAccountId: string[]; bidCents: number[]; score: number[]; priceCents: number[]; status: string[]; reason: Array<string | null> };
  excluded: { targetId: string[]; buyerAccountId: string[]; bidCents: number[]; reason: string[]; detail: Array<string | null> };
}

function table(headers: string[], rows: string[][], className: string): HTMLTableElement {
  const t = document.createElement('table');
  t.className = className;
  const head = t.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const v of r) cell(tr, v);
  }
  return t;
}

function renderTrace(call: Record<string, unknown> & { trace?: Trace | null; attempts: Array<Record<string, unknown>> }): HTMLElement {
  const box = document.createElement('div');
  const summary = document.createElement('p');
  summary.className = 'trace-summary';
  summary.textContent = `${text(call.ani as string)} → ${text(call.dnis as string)} · ${text(call.outcome as string)}${call.winnerBuyerId ? ` · won by ${String(call.winnerBuyerId)} at ${money(call.priceCents as number)}` : ''}${call.durationSec !== null && call.durationSec !== undefined ? ` · ${String(call.durationSec)} s` : ''}`;
  box.append(summary);
  const billing = call.billing as { converted: boolean; reason?: string | null; buyerChargeCents: number; sellerPayoutCents: number } | null | undefined;
  const billed = document.createElement('p');
  billed.className = 'trace-billing';
  billed.textContent = billing
    ? `Billed: ${billing.converted ? 'converted' : `not converted${billing.reason ? ` (${billing.reason})` : ''}`}, buyer charged ${money(billing.buyerChargeCents)}, seller paid ${money(billing.sellerPayoutCents)}`
    : call.endedAt ? 'Not billed yet.' : 'The call is still going.';
  box.append(billed);
  const t = call.trace;
  if (!t) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'No decision trace for this key (only operators and agents see bids).';
    box.append(p);
    return box;
  }
  if (t.screening?.checks?.length) {
    box.append(table(['Screening rule', 'Result', 'Reason'], t.screening.checks.map((c) => [c.rule, c.pass ? 'pass' : 'block', [c.reason, c.detail].filter(Boolean).join(': ')]), 'trace-screening'));
  }
  const r = t.ranked;
  box.append(table(['Rank', 'Target', 'Buyer', 'Bid', 'Score', 'Price', 'Result'], r.targetId.map((id, i) => [String(i + 1), id, r.buyerAccountId[i] ?? '', money(r.bidCents[i]), (r.score[i] ?? 0).toFixed(2), money(r.priceCents[i]), [r.status[i], r.reason[i]].filter(Boolean).join(': ')]), 'trace-ranked'));
  const x = t.excluded;
  if (x.targetId.length) box.append(table(['Excluded target', 'Buyer', 'Bid', 'Why'], x.targetId.map((id, i) => [id, x.buyerAccountId[i] ?? '', money(x.bidCents[i]), [x.reason[i], x.detail[i]].filter(Boolean).join(': ')]), 'trace-excluded'));
  if (call.attempts.length) box.append(table(['Attempt', 'Target', 'Buyer', 'Status'], call.attempts.map((a) => [text(a.attemptNo as number), text(a.targetId as string), text(a.buyerId as string), text(a.status as string)]), 'trace-attempts'));
  return box;
}

let current: Dashboard | undefined;

async function logIn(key: string): Promise<void> {
  const error = $('#login-error');
  error.textContent = '';
  const dashboard = new Dashboard(key);
  try {
    await dashboard.start();
  } catch (err) {
    dashboard.stop();
    sessionStorage.removeItem(KEY_STORAGE);
    error.textContent = err instanceof ApiError && err.status === 401 ? 'That API key was refused: it is unknown or revoked.' : err instanceof ApiError && err.status === 403 ? 'This key may not see calls.' : `Could not log in: ${(err as Error).message}`;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  current = dashboard;
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
}

$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void logIn($<HTMLInputElement>('#api-key').value.trim());
});
$('#logout').addEventListener('click', () => {
  current?.stop();
  current = undefined;
  sessionStorage.removeItem(KEY_STORAGE);
  window.location.reload();
});
const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) void logIn(saved);
