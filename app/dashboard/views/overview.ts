/**
 * The overview: per campaign the calls up now and the range's figures (cards), the same range's chart, and the
 * live calls table (socket.io /live) with each call's true state: ringing which buyer, talking with which, how it
 * ended, then converted and paid once billing has run. Cards and chart are summed from one report request.
 */
import type { Socket } from 'socket.io-client';
import { applyEvent, dollars, seconds, stateOfCall, sumBy, type CallDetail, type CallView, type LiveEvent, type LiveRow, type ReportRowView } from '../format';
import { $, cell, h, labelCells, scrollTable } from '../dom';
import { drawChart, type ChartPoint } from './chart';
import { isOperator, moneyLabel, type Ctx, type View } from './context';
import { fetchReport, moneyOf, RANGES, rangeOf, type Range, type RangeName } from './report-data';

const MAX_ROWS = 100;
const REPORT_REFRESH_MS = 5_000;
/** After a call ends, its record is read again to show converted / paid once billing has run. */
const BILLING_CHECKS_MS = [1_500, 4_000, 10_000, 25_000];

export function overviewView(socket: () => Socket | undefined): View {
  let ctx: Ctx;
  let root: HTMLElement;
  const calls = new Map<string, LiveRow>();
  let rangeName: RangeName = 'today';
  let report: ReportRowView[] = [];
  let range: Range;
  const timers: number[] = [];
  let refreshSoon: number | undefined;

  const liveByCampaign = (): Map<string, number> => {
    const live = new Map<string, number>();
    for (const c of calls.values()) if (c.state.live && c.campaignId) live.set(c.campaignId, (live.get(c.campaignId) ?? 0) + 1);
    return live;
  };

  function renderCampaigns(): void {
    const live = liveByCampaign();
    const sums = sumBy(report, 'key');
    const keys = [...new Set([...sums.keys(), ...live.keys()])].sort();
    const tbody = $<HTMLTableSectionElement>('#campaigns tbody', root);
    tbody.replaceChildren();
    for (const k of keys) {
      const t = sums.get(k);
      const tr = tbody.insertRow();
      tr.dataset.campaign = k;
      cell(tr, k || '(none)');
      cell(tr, String(live.get(k) ?? 0), 'live');
      cell(tr, String(t?.calls ?? 0), 'calls');
      cell(tr, String(t?.bridged ?? 0), 'bridged');
      cell(tr, String(t?.conversions ?? 0), 'conversions');
      cell(tr, dollars(t ? moneyOf(ctx.role, t) : 0), 'revenue');
    }
  }

  function renderChart(): void {
    // Every row's bucket is inside the range the report was asked for, so the points hold every row the cards sum.
    const byBucket = new Map([...sumBy(report, 'bucket')].map(([b, t]) => [new Date(b).getTime(), t] as const));
    const points: ChartPoint[] = [];
    for (let at = Math.floor(range.from.getTime() / range.stepMs) * range.stepMs; at < range.to.getTime(); at += range.stepMs) {
      const t = byBucket.get(at);
      const label = range.bucket === 'day' ? new Date(at).toISOString().slice(0, 10) : new Date(at).toISOString().slice(11, 16);
      points.push({ at, label, calls: t?.calls ?? 0, cents: t ? moneyOf(ctx.role, t) : 0 });
    }
    drawChart($<SVGSVGElement & HTMLElement>('#chart', root) as unknown as SVGSVGElement, points, { moneyName: moneyLabel(ctx), first: points[0]?.label ?? '', last: 'now' });
  }

  async function refreshReport(): Promise<void> {
    range = rangeOf(rangeName, new Date());
    try {
      report = await fetchReport(ctx.api, 'campaign', range.from, range.to, range.bucket);
      renderCampaigns();
      renderChart();
    } catch (err) {
      console.warn('report failed', err);
    }
  }

  function renderCalls(): void {
    const tbody = $<HTMLTableSectionElement>('#calls tbody', root);
    tbody.replaceChildren();
    for (const c of [...calls.values()].reverse()) {
      const tr = tbody.insertRow();
      tr.dataset.callId = c.id;
      tr.dataset.state = c.state.live ? 'live' : 'ended';
      tr.dataset.kind = c.state.kind;
      tr.className = `${c.state.live ? 'live' : 'ended'} kind-${c.state.kind}`;
      cell(tr, new Date(c.startedAt).toLocaleTimeString(), 'started');
      cell(tr, c.ani, 'caller');
      cell(tr, c.dnis, 'number');
      cell(tr, c.campaignId, 'campaign');
      cell(tr, c.state.label, `status status-${c.state.kind}`);
      cell(tr, c.state.buyer, 'buyer');
      cell(tr, dollars(c.state.priceCents), 'price');
      cell(tr, seconds(c.durationSec), 'duration');
      tr.addEventListener('click', () => ctx.showCall(c.id));
    }
    labelCells($<HTMLTableElement>('#calls', root));
  }

  /** Reads a call's record and shows its state from it (who answered, billed, paid). */
  async function readBack(id: string): Promise<void> {
    try {
      const d = await ctx.api.get<CallDetail>(`/v1/calls/${encodeURIComponent(id)}`);
      const row = calls.get(id);
      if (!row) return;
      row.ani ||= d.ani;
      row.dnis ||= d.dnis;
      row.campaignId ||= d.campaignId ?? '';
      if (d.durationSec !== null && d.durationSec !== undefined) row.durationSec = d.durationSec;
      // A live event may have moved the call on while we read: only a record at least as far along replaces it.
      if (d.endedAt || row.state.live) row.state = stateOfCall(d);
      renderCalls();
    } catch {
      /* not recorded yet: the next check or event shows it */
    }
  }

  function onEvent(e: LiveEvent): void {
    let row = calls.get(e.callId);
    if (!row) {
      // Buyers get no call.started: a call offered to them begins with its decision.
      row = { id: e.callId, startedAt: e.at, ani: e.type === 'call.started' ? e.ani : '', dnis: e.type === 'call.started' ? e.dnis : '', campaignId: '', state: { kind: 'screening', label: 'screening', buyer: '', live: true } };
      calls.set(e.callId, row);
      while (calls.size > MAX_ROWS) calls.delete(calls.keys().next().value!);
    }
    calls.set(e.callId, applyEvent(row, e));
    if (e.type === 'call.ended') {
      window.clearTimeout(refreshSoon);
      refreshSoon = window.setTimeout(() => void refreshReport(), 1500);
      for (const ms of BILLING_CHECKS_MS) window.setTimeout(() => void readBack(e.callId), ms);
    }
    renderCalls();
    renderCampaigns();
  }

  return {
    id: 'overview',
    title: 'Overview',
    roles: ['admin', 'agent', 'seller', 'buyer'],
    async mount(el, c) {
      ctx = c;
      root = el;
      const rangeSelect = h('select', { id: 'range', 'aria-label': 'range' });
      for (const [v, label] of RANGES) rangeSelect.append(h('option', { value: v, selected: v === rangeName }, label));
      rangeSelect.addEventListener('change', () => {
        rangeName = rangeSelect.value as RangeName;
        void refreshReport();
      });
      const money = moneyLabel(c);
      el.append(
        h('div', { class: 'toolbar' }, h('label', {}, 'Range ', rangeSelect)),
        h('section', { class: 'card' }, h('h2', {}, 'Per campaign ', h('span', { class: 'muted' }, '(live now, and the range\'s calls)')),
          scrollTable(h('table', { id: 'campaigns' }, h('thead', {}, h('tr', {}, ...['Campaign', 'Live now', 'Calls', 'Bridged', 'Conversions', money].map((x) => h('th', {}, x)))), h('tbody')))),
        h('section', { class: 'card' }, h('h2', {}, 'Calls and ', money.toLowerCase(), ' ', h('span', { class: 'muted legend' }, h('i', { class: 'sw calls' }), 'calls ', h('i', { class: 'sw revenue' }), money.toLowerCase())),
          (() => {
            const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
            svg.id = 'chart';
            svg.setAttribute('viewBox', '0 0 600 170');
            svg.setAttribute('preserveAspectRatio', 'none');
            svg.setAttribute('role', 'img');
            svg.setAttribute('aria-label', `calls and ${money.toLowerCase()} over the range`);
            return svg;
          })()),
        h('section', { class: 'card wide' }, h('h2', {}, 'Live calls'),
          scrollTable(h('table', { id: 'calls', class: 'calls-table' }, h('thead', {}, h('tr', {}, ...['Started', 'Caller', 'Number', 'Campaign', 'Status', 'Buyer', 'Price', 'Duration'].map((x) => h('th', {}, x)))), h('tbody')))),
      );
      const page = await c.api.list<CallView>('/v1/calls?limit=50');
      for (const call of page.items.reverse()) {
        calls.set(call.id, { id: call.id, startedAt: call.startedAt, ani: call.ani, dnis: call.dnis, campaignId: call.campaignId ?? '', state: stateOfCall(call), durationSec: call.durationSec ?? undefined });
      }
      renderCalls();
      // Calls up at load: the list has the buyer offered first, not who is on the line; their records say.
      for (const row of [...calls.values()].filter((r) => r.state.live).slice(-20)) void readBack(row.id);
      // Ended calls at load: the list says how they ended, their records whether they were converted and paid.
      for (const row of [...calls.values()].filter((r) => r.state.kind === 'completed').slice(-30)) void readBack(row.id);
      socket()?.on('call', onEvent);
      await refreshReport();
      timers.push(window.setInterval(() => void refreshReport(), REPORT_REFRESH_MS));
      if (!isOperator(c)) $('#calls', root).closest('section')!.querySelector('h2')!.textContent = 'Your calls';
    },
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
