/**
 * Reports: calls, conversions, revenue, payout and margin per campaign, buyer or seller over a chosen range (from
 * GET /v1/reports/calls, the billed calls: the ledger's figures). Each role sees its own money: operators all
 * three, a buyer its spend, a seller its payout.
 */
import { dollars, sumBy, total, type Totals } from '../format';
import { $, cell, h, scrollTable } from '../dom';
import { drawChart } from './chart';
import { moneyLabel, type Ctx, type View } from './context';
import { fetchReport, moneyOf } from './report-data';

const day = (d: Date): string => d.toISOString().slice(0, 10);

export function reportsView(): View {
  let ctx: Ctx;
  let root: HTMLElement;

  function columns(): Array<[string, (t: Totals) => string, string]> {
    const cols: Array<[string, (t: Totals) => string, string]> = [
      ['Calls', (t) => String(t.calls), 'calls'],
      ['Bridged', (t) => String(t.bridged), 'bridged'],
      ['Conversions', (t) => String(t.conversions), 'conversions'],
    ];
    if (ctx.role === 'seller') cols.push(['Payout', (t) => dollars(t.payoutCents), 'payout']);
    else cols.push([moneyLabel(ctx), (t) => dollars(t.revenueCents), 'revenue']);
    if (ctx.role === 'admin' || ctx.role === 'agent') cols.push(['Payout', (t) => dollars(t.payoutCents), 'payout'], ['Margin', (t) => dollars(t.marginCents), 'margin']);
    return cols;
  }

  async function load(): Promise<void> {
    const f = $<HTMLFormElement>('#report-form', root);
    const v = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value;
    const err = $('#report-error', root);
    err.textContent = '';
    const from = new Date(`${v('from')}T00:00:00Z`);
    const to = new Date(new Date(`${v('to')}T00:00:00Z`).getTime() + 86_400_000);
    const groupBy = v('groupBy') as 'campaign' | 'seller' | 'buyer';
    try {
      const rows = await fetchReport(ctx.api, groupBy, from, to, 'day');
      const cols = columns();
      const t = $<HTMLTableElement>('#report', root);
      t.tHead!.replaceChildren(h('tr', {}, h('th', {}, groupBy[0]!.toUpperCase() + groupBy.slice(1)), ...cols.map(([name]) => h('th', {}, name))));
      const body = t.tBodies[0]!;
      body.replaceChildren();
      const sums = sumBy(rows, 'key');
      for (const [key, s] of [...sums.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const tr = body.insertRow();
        tr.dataset.key = key;
        cell(tr, key || '(none)', 'key');
        for (const [, fmt, cls] of cols) cell(tr, fmt(s), cls);
      }
      const all = total(rows);
      const foot = t.tFoot ?? t.createTFoot();
      foot.replaceChildren();
      const tr = foot.insertRow();
      tr.dataset.key = '';
      cell(tr, 'Total', 'key');
      for (const [, fmt, cls] of cols) cell(tr, fmt(all), cls);
      // The chart: one bar per day of the range, from the same rows.
      const byDay = sumBy(rows.map((r) => ({ ...r, bucket: r.bucket.slice(0, 10) })), 'bucket');
      const points = [];
      for (let at = from.getTime(); at < to.getTime(); at += 86_400_000) {
        const s = byDay.get(day(new Date(at)));
        points.push({ at, label: day(new Date(at)), calls: s?.calls ?? 0, cents: s ? moneyOf(ctx.role, s) : 0 });
      }
      drawChart($('#report-chart', root) as unknown as SVGSVGElement, points, { moneyName: moneyLabel(ctx), first: day(from), last: day(new Date(to.getTime() - 1)) });
    } catch (e) {
      err.textContent = (e as Error).message;
    }
  }

  return {
    id: 'reports',
    title: 'Reports',
    roles: ['admin', 'agent', 'seller', 'buyer'],
    async mount(el, c) {
      ctx = c;
      root = el;
      const now = new Date();
      const groupBy = h('select', { name: 'groupBy' });
      for (const g of ['campaign', 'buyer', 'seller']) if (!(g === 'buyer' && c.role === 'seller') && !(g === 'seller' && c.role !== 'admin' && c.role !== 'agent')) groupBy.append(h('option', { value: g }, `by ${g}`));
      const f = h('form', { id: 'report-form', class: 'filters' },
        h('label', {}, 'From', h('input', { name: 'from', type: 'date', value: day(new Date(now.getTime() - 6 * 86_400_000)) })),
        h('label', {}, 'To', h('input', { name: 'to', type: 'date', value: day(now) })),
        h('label', {}, 'Group', groupBy),
        h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Show')));
      f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        void load();
      });
      const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.id = 'report-chart';
      svg.setAttribute('viewBox', '0 0 600 170');
      svg.setAttribute('preserveAspectRatio', 'none');
      svg.setAttribute('class', 'chart');
      el.append(h('section', { class: 'card wide' }, h('h2', {}, c.role === 'seller' ? 'Your calls and payouts' : 'Reports'), f, h('p', { id: 'report-error', class: 'error', role: 'alert' }),
        scrollTable(h('table', { id: 'report' }, h('thead'), h('tbody'))), svg));
      await load();
    },
    refresh: () => load(),
  };
}
