/**
 * Money: an account's balance and ledger, invoices for a period, and for admins adjustments (a top-up or
 * correction against the platform account) and settlements. A seller or buyer sees its own account only.
 */
import { dollars } from '../format';
import { form, h, scrollTable, table, type Field } from '../dom';
import type { Ctx, View } from './context';

interface Balance { accountId?: string; balanceCents: number; creditLimitCents?: number; availableCents?: number }
interface Entry { id: string | number; kind?: string; amountCents: number; callId?: string | null; at?: string; memo?: string | null }
interface Invoice { lines: Array<{ campaignId?: string | null; kind: string; totalCents: number; transactions?: number }>; totalCents: number }

const day = (d: Date): string => d.toISOString().slice(0, 10);
const isoDay = (s: string, plusDays = 0): string => new Date(new Date(`${s}T00:00:00Z`).getTime() + plusDays * 86_400_000).toISOString();

export function moneyView(): View {
  return {
    id: 'money',
    title: 'Money',
    roles: ['admin', 'seller', 'buyer'],
    mount(el, ctx: Ctx) {
      const own = ctx.accountId;
      const accountField: Field[] = own ? [] : [{ name: 'accountId', label: 'Account', required: true }];
      const accountOf = (body: Record<string, unknown>): string => own ?? String(body.accountId);
      const out = h('div', { id: 'money-out' });
      const today = new Date();
      const monthStart = day(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)));
      const balance = form({
        id: 'balance-form', title: own ? 'Your balance and ledger' : 'Balance and ledger', submit: 'Show',
        fields: accountField,
        send: async (body) => {
          const id = encodeURIComponent(accountOf(body));
          const b = await ctx.api.get<Balance>(`/v1/accounts/${id}/balance`);
          const ledger = await ctx.api.list<Entry>(`/v1/accounts/${id}/ledger?limit=50`);
          out.replaceChildren(
            h('p', { class: 'balance' }, `Balance ${dollars(b.balanceCents)}`, b.availableCents !== undefined ? ` · available ${dollars(b.availableCents)}` : '', b.creditLimitCents ? ` · credit limit ${dollars(b.creditLimitCents)}` : ''),
            scrollTable(table(['When', 'Kind', 'Call', 'Amount'], ledger.items.map((e) => [e.at ? new Date(e.at).toLocaleString() : '', (e.kind ?? '').replace(/_/g, ' '), e.callId ?? e.memo ?? '', dollars(e.amountCents)]), 'ledger-table', ['when', 'kind', 'call', 'amount'])),
          );
          return '';
        },
      });
      const invoice = form({
        id: 'invoice-form', title: own ? 'Your invoice or payout statement' : 'Invoice', submit: 'Show invoice',
        fields: [...accountField, { name: 'from', label: 'From (YYYY-MM-DD)', value: monthStart, required: true }, { name: 'to', label: 'To (YYYY-MM-DD, inclusive)', value: day(today), required: true }],
        send: async (body) => {
          const inv = await ctx.api.get<Invoice>(`/v1/accounts/${encodeURIComponent(accountOf(body))}/invoice?from=${encodeURIComponent(isoDay(String(body.from)))}&to=${encodeURIComponent(isoDay(String(body.to), 1))}`);
          out.replaceChildren(
            scrollTable(table(['Campaign', 'Kind', 'Transactions', 'Amount'], inv.lines.map((l) => [l.campaignId ?? '', l.kind.replace(/_/g, ' '), String(l.transactions ?? ''), dollars(l.totalCents)]), 'invoice-table', ['campaign', 'kind', 'calls', 'amount'])),
            h('p', { class: 'invoice-total' }, `Total ${dollars(inv.totalCents)}`),
          );
          return '';
        },
      });
      const forms = [balance, invoice];
      if (ctx.role === 'admin') {
        forms.push(form({
          id: 'adjustment-form', title: 'Adjustment (top-up or correction)', submit: 'Post adjustment',
          fields: [{ name: 'accountId', label: 'Account', required: true }, { name: 'amountCents', label: 'Amount (negative to take back)', kind: 'money', required: true }, { name: 'memo', label: 'Memo', required: true }],
          send: async (body) => {
            const amount = body.amountCents as number;
            await ctx.api.request('POST', '/v1/adjustments', {
              idempotencyKey: `console-${crypto.randomUUID()}`,
              memo: body.memo,
              postings: [{ accountId: body.accountId, amountCents: amount }, { accountId: 'platform', amountCents: -amount }],
            });
            return `Posted ${dollars(amount)} to ${String(body.accountId)}.`;
          },
        }), form({
          id: 'settlement-form', title: 'Settle a period', submit: 'Settle',
          fields: [{ name: 'accountId', label: 'Account', required: true }, { name: 'from', label: 'From (YYYY-MM-DD)', value: monthStart, required: true }, { name: 'to', label: 'To (YYYY-MM-DD, inclusive)', value: day(today), required: true }],
          send: async (body) => {
            const s = await ctx.api.request<{ totalCents: number; calls: number; created?: boolean }>('POST', '/v1/settlements', { accountId: body.accountId, from: isoDay(String(body.from)), to: isoDay(String(body.to), 1) });
            return `${s.created === false ? 'Already settled' : 'Settled'}: ${s.calls} calls, ${dollars(s.totalCents)}.`;
          },
        }));
      }
      // The answer's card shows once a form has put something in it.
      const outCard = h('section', { class: 'card wide', hidden: true }, out);
      new MutationObserver(() => (outCard.hidden = out.childElementCount === 0)).observe(out, { childList: true });
      el.append(...forms.map((f) => h('section', { class: 'card' }, f)), outCard);
      if (ctx.role === 'admin') {
        const balances = h('div', { id: 'balances' });
        el.prepend(h('section', { class: 'card wide' }, h('h2', {}, 'Balances'), balances));
        ctx.api.all<Balance & { kind: string }>('/v1/balances').then(
          (items) => balances.replaceChildren(scrollTable(table(['Account', 'Kind', 'Balance', 'Credit limit', 'Available'], items.map((b) => [b.accountId ?? '', b.kind, dollars(b.balanceCents), dollars(b.creditLimitCents), dollars(b.availableCents)]), 'balances-table', ['account', 'kind', 'amount', 'amount', 'amount']))),
          (err: Error) => balances.replaceChildren(h('p', { class: 'error' }, err.message)),
        );
      }
    },
  };
}
