/**
 * The call log: recorded calls searched by number, campaign, buyer, outcome and reason over a date range, a page
 * at a time, exported as CSV with the same filters (GET /v1/calls/export.csv); a row opens its trace.
 */
import { dollars, seconds, stateOfCall, type CallDetail, type CallView } from '../format';
import { $, cell, h, labelCells, scrollTable } from '../dom';
import { isOperator, type Ctx, type View } from './context';

/** How many calls of a page have their record read: ended bridged calls for converted / paid (the list has no billing), calls still up for who answered. */
const RECORD_READS = 30;

const OUTCOMES: Array<[string, string]> = [['', 'any outcome'], ['bridged', 'bridged'], ['rejected', 'rejected'], ['no_buyer_answered', 'no buyer answered'], ['abandoned', 'caller hung up'], ['failed', 'failed']];

/** Filters as query parameters; the API names them in the calls list's schema. */
function filterQuery(f: HTMLFormElement): URLSearchParams {
  const q = new URLSearchParams();
  const v = (name: string): string => ((f.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
  if (v('number')) q.set('number', v('number'));
  if (v('campaign')) q.set('campaignId', v('campaign'));
  if (v('buyer')) q.set('buyerId', v('buyer'));
  if (v('outcome')) q.set('outcome', v('outcome'));
  if (v('reason')) q.set('reason', v('reason'));
  if (v('from')) q.set('from', new Date(`${v('from')}T00:00:00Z`).toISOString());
  if (v('to')) q.set('to', new Date(new Date(`${v('to')}T00:00:00Z`).getTime() + 86_400_000).toISOString());
  return q;
}

export function callLogView(): View {
  let ctx: Ctx;
  let root: HTMLElement;
  let cursor: string | null = null;

  async function load(append: boolean): Promise<void> {
    const f = $<HTMLFormElement>('#log-filters', root);
    const q = filterQuery(f);
    q.set('limit', '50');
    if (append && cursor) q.set('cursor', cursor);
    const err = $('#log-error', root);
    err.textContent = '';
    try {
      const page = await ctx.api.list<CallView>(`/v1/calls?${q}`);
      cursor = page.nextCursor;
      const tbody = $<HTMLTableSectionElement>('#log tbody', root);
      if (!append) tbody.replaceChildren();
      for (const c of page.items) {
        const s = stateOfCall(c);
        const tr = tbody.insertRow();
        tr.dataset.callId = c.id;
        tr.dataset.kind = s.kind;
        cell(tr, new Date(c.startedAt).toLocaleString(), 'started');
        cell(tr, c.ani, 'caller');
        cell(tr, c.dnis, 'number');
        cell(tr, c.campaignId ?? '', 'campaign');
        cell(tr, s.label, `status status-${s.kind}`);
        cell(tr, s.buyer, 'buyer');
        cell(tr, dollars(s.priceCents), 'price');
        cell(tr, seconds(c.durationSec), 'duration');
        tr.addEventListener('click', () => ctx.showCall(c.id));
      }
      labelCells($<HTMLTableElement>('#log', root));
      // The list says how calls ended, their records whether they were converted and paid, and who is on the line
      // of a call still up (the list names only the buyer offered it first).
      const ended = [...tbody.rows].filter((tr) => tr.dataset.kind === 'completed' || tr.dataset.kind === 'in_progress').slice(0, RECORD_READS);
      void Promise.all(ended.map(async (tr) => {
        const d = await ctx.api.get<CallDetail>(`/v1/calls/${encodeURIComponent(tr.dataset.callId!)}`).catch(() => undefined);
        if (!d) return;
        const s = stateOfCall(d);
        tr.dataset.kind = s.kind;
        const cellOf = (cls: string) => tr.querySelector<HTMLTableCellElement>(`td.${cls}`);
        cellOf('status')!.textContent = s.label;
        cellOf('status')!.className = `status status-${s.kind}`;
        cellOf('buyer')!.textContent = s.buyer;
        cellOf('price')!.textContent = dollars(s.priceCents);
      }));
      $('#log-count', root).textContent = `${tbody.rows.length} calls shown${cursor ? ' (more below)' : ''}`;
      $<HTMLButtonElement>('#log-more', root).hidden = !cursor;
    } catch (e) {
      err.textContent = (e as Error).message;
    }
  }

  return {
    id: 'calls',
    title: 'Call log',
    roles: ['admin', 'agent', 'seller', 'buyer'],
    async mount(el, c) {
      ctx = c;
      root = el;
      const input = (name: string, label: string, attrs: Record<string, string> = {}) => h('label', {}, label, h('input', { name, ...attrs }));
      const outcome = h('select', { name: 'outcome' });
      for (const [v, l] of OUTCOMES) outcome.append(h('option', { value: v }, l));
      const filters = h('form', { id: 'log-filters', class: 'filters' },
        input('number', 'Number', { placeholder: '+18135551234 or +1813*' }),
        input('campaign', 'Campaign'),
        isOperator(c) ? input('buyer', 'Buyer') : null,
        h('label', {}, 'Outcome', outcome),
        input('reason', 'Reason', { placeholder: 'e.g. dnc_global' }),
        input('from', 'From', { type: 'date' }),
        input('to', 'To', { type: 'date' }),
        h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Search'), h('button', { type: 'button', id: 'log-export' }, 'Export CSV')));
      filters.addEventListener('submit', (ev) => {
        ev.preventDefault();
        void load(false);
      });
      el.append(
        h('section', { class: 'card wide' }, h('h2', {}, 'Call log'), filters, h('p', { id: 'log-error', class: 'error', role: 'alert' }),
          scrollTable(h('table', { id: 'log', class: 'calls-table' }, h('thead', {}, h('tr', {}, ...['Started', 'Caller', 'Number', 'Campaign', 'Status', 'Buyer', 'Price', 'Duration'].map((x) => h('th', {}, x)))), h('tbody'))),
          h('p', { class: 'muted', id: 'log-count' }), h('button', { id: 'log-more', type: 'button', hidden: true }, 'More')),
      );
      $('#log-more', el).addEventListener('click', () => void load(true));
      $('#log-export', el).addEventListener('click', () => {
        const q = filterQuery(filters);
        ctx.api.download(`/v1/calls/export.csv?${q}`, 'calls.csv').catch((e: Error) => {
          $('#log-error', root).textContent = e.message;
        });
      });
      await load(false);
    },
    refresh: () => load(false),
  };
}
