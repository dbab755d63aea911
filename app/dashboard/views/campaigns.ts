/**
 * Campaigns and their tracking numbers (admins: every field; a seller: its own campaigns, without the price
 * fields, which are the platform's), and buyer targets with bid, caps, schedule, targeting and destination
 * (admins: any; a buyer: its own, and its standing bids).
 */
import { dollars } from '../format';
import { form, h, scrollTable, table, type Field } from '../dom';
import type { Ctx, View } from './context';

interface Campaign { id: string; name: string; sellerAccountId: string; active: boolean; routing: string; floorCents: number; payoutCents: number | null; payoutPercent: number | null }
interface Target { id: string; name: string; buyerAccountId: string; campaignId: string; active: boolean; bidCents: number; destination: string; capConcurrency: number | null; capHourly: number | null; capDaily: number | null; capMonthly: number | null }

/** A list view with its forms: the list is drawn again after every successful change. */
function listView<T>(spec: { id: string; title: string; roles: Ctx['role'][]; path: string; headers: string[]; row: (x: T) => string[]; forms: (ctx: Ctx, reload: () => Promise<void>) => Promise<HTMLElement[]> | HTMLElement[] }): View {
  let ctx: Ctx;
  let list: HTMLElement;
  const reload = async (): Promise<void> => {
    try {
      const items = await ctx.api.all<T>(spec.path);
      list.replaceChildren(scrollTable(table(spec.headers, items.map(spec.row), `${spec.id}-list`)));
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error' }, (err as Error).message));
    }
  };
  return {
    id: spec.id,
    title: spec.title,
    roles: spec.roles,
    async mount(el, c) {
      ctx = c;
      list = h('div', { id: `${spec.id}-list` });
      const forms = ctx.role === 'agent' ? [] : await spec.forms(c, reload);
      el.append(h('section', { class: 'card wide' }, h('h2', {}, spec.title), list), ...forms.map((f) => h('section', { class: 'card' }, f)));
      await reload();
    },
    refresh: () => reload(),
  };
}

/**
 * A schedule as typed, with the days it does not name closed: the API wants all seven days (0 = Sunday) listed,
 * a person types the open ones.
 */
function completeSchedule(body: Record<string, unknown>): Record<string, unknown> {
  const sch = body.schedule as { hours?: Record<string, unknown> } | null | undefined;
  if (!sch || typeof sch !== 'object' || !sch.hours || typeof sch.hours !== 'object') return body;
  const hours: Record<string, unknown> = {};
  for (const d of ['0', '1', '2', '3', '4', '5', '6']) hours[d] = sch.hours[d] ?? [];
  return { ...body, schedule: { ...sch, hours } };
}

/** Select values 'true' / 'false' as the booleans the API takes. */
const withBooleans = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, keys.includes(k) && (v === 'true' || v === 'false') ? v === 'true' : v]));

const without = <T extends Record<string, unknown>>(o: T, keys: string[]): T => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) as T;

/** Account ids of a kind, for a select (admins); a seller or buyer acts for its own account only. */
async function accountOptions(ctx: Ctx, kind: 'seller' | 'buyer'): Promise<Array<[string, string]>> {
  if (ctx.accountId) return [[ctx.accountId, ctx.accountId]];
  try {
    const accounts = await ctx.api.all<{ id: string; kind: string; name: string }>(`/v1/accounts?kind=${kind}`);
    return accounts.filter((a) => a.kind === kind).map((a) => [a.id, `${a.name} (${a.id})`]);
  } catch {
    return [];
  }
}

function accountField(name: string, label: string, options: Array<[string, string]>): Field {
  // Without an account list (an older API), the id is typed.
  return options.length ? { name, label, kind: 'select', options } : { name, label, required: true };
}

export function campaignsView(): View {
  return listView<Campaign>({
    id: 'campaigns-admin',
    title: 'Campaigns',
    roles: ['admin', 'agent', 'seller'],
    path: '/v1/campaigns',
    headers: ['Id', 'Name', 'Seller', 'Active', 'Routing', 'Floor', 'Payout'],
    row: (c) => [c.id, c.name, c.sellerAccountId, c.active ? 'yes' : 'paused', c.routing.replace(/_/g, ' '), dollars(c.floorCents), c.payoutCents !== null && c.payoutCents !== undefined ? dollars(c.payoutCents) : c.payoutPercent !== null && c.payoutPercent !== undefined ? `${c.payoutPercent}%` : ''],
    async forms(ctx, reload) {
      const admin = ctx.role === 'admin';
      const sellers = await accountOptions(ctx, 'seller');
      const campaigns = async (): Promise<Array<[string, string]>> => (await ctx.api.all<Campaign>('/v1/campaigns')).map((c) => [c.id, c.name]);
      const fields: Field[] = [
        { name: 'id', label: 'Id', placeholder: 'optional: the server makes one' },
        { name: 'name', label: 'Name', required: true },
        accountField('sellerAccountId', 'Seller', sellers),
        ...(admin ? [
          { name: 'floorCents', label: 'Floor (lowest price a buyer pays)', kind: 'money' },
          { name: 'payoutCents', label: 'Payout to the seller per converted call', kind: 'money' },
          { name: 'routing', label: 'Routing', kind: 'select', options: [['second_price', 'second price'], ['first_price', 'first price'], ['priority_weight', 'priority and weight']] },
        ] as Field[] : []),
        { name: 'requireConsent', label: 'Require consent on record', kind: 'checkbox' },
      ];
      const create = form({
        id: 'campaign-form', title: 'New campaign', fields, submit: 'Create campaign',
        send: async (body) => {
          const c = await ctx.api.request<Campaign>('POST', '/v1/campaigns', body);
          await reload();
          await refreshSelect(numberForm, 'campaignId', await campaigns());
          return `Campaign ${c.id} created.`;
        },
      });
      const numberForm = form({
        id: 'number-form', title: 'Add a tracking number', submit: 'Add number',
        fields: [{ name: 'campaignId', label: 'Campaign', kind: 'select', options: await campaigns().catch(() => []) }, { name: 'did', label: 'Tracking number', required: true, placeholder: '+18885550100' }],
        send: async (body) => {
          const r = await ctx.api.request<{ did: string; campaignId: string }>('POST', `/v1/campaigns/${encodeURIComponent(String(body.campaignId))}/numbers`, without(body, ['campaignId']));
          return `${r.did} now rings campaign ${r.campaignId}.`;
        },
      });
      const edit = form({
        id: 'campaign-edit-form', title: 'Change a campaign', submit: 'Save changes',
        fields: [
          { name: 'campaignId', label: 'Campaign', kind: 'select', options: await campaigns().catch(() => []) },
          { name: 'name', label: 'New name' },
          { name: 'active', label: 'Taking calls', kind: 'select', options: [['', 'unchanged'], ['true', 'active'], ['false', 'paused']] },
          ...(admin ? [
            { name: 'floorCents', label: 'Floor', kind: 'money' },
            { name: 'payoutCents', label: 'Payout per converted call', kind: 'money' },
          ] as Field[] : []),
        ],
        send: async (body) => {
          const id = String(body.campaignId);
          const patch = withBooleans(without(body, ['campaignId']), ['active']);
          const c = await ctx.api.request<Campaign>('PATCH', `/v1/campaigns/${encodeURIComponent(id)}`, patch);
          await reload();
          return `Campaign ${c.id} saved.`;
        },
      });
      return [create, numberForm, edit];
    },
  });
}

export function targetsView(): View {
  return listView<Target>({
    id: 'targets',
    title: 'Buyer targets',
    roles: ['admin', 'agent', 'buyer'],
    path: '/v1/targets',
    headers: ['Id', 'Name', 'Buyer', 'Campaign', 'Active', 'Bid', 'Destination', 'Caps (concurrent / hour / day / month)'],
    row: (t) => [t.id, t.name, t.buyerAccountId, t.campaignId, t.active ? 'yes' : 'paused', dollars(t.bidCents), t.destination, [t.capConcurrency, t.capHourly, t.capDaily, t.capMonthly].map((x) => x ?? '-').join(' / ')],
    async forms(ctx, reload) {
      const buyers = await accountOptions(ctx, 'buyer');
      const campaigns: Array<[string, string]> = ctx.role === 'admin' ? await ctx.api.all<Campaign>('/v1/campaigns').then((cs) => cs.map((c) => [c.id, c.name] as [string, string])).catch(() => []) : [];
      const targets = async (): Promise<Array<[string, string]>> => (await ctx.api.all<Target>('/v1/targets')).map((t) => [t.id, `${t.name} (${dollars(t.bidCents)})`]);
      const capFields: Field[] = (['capConcurrency', 'capHourly', 'capDaily', 'capMonthly'] as const).map((name, i) => ({ name, label: ['Concurrent calls cap', 'Calls per hour cap', 'Calls per day cap', 'Calls per month cap'][i]!, kind: 'number' }));
      const create = form({
        id: 'target-form', title: 'New buyer target', submit: 'Create target',
        fields: [
          { name: 'id', label: 'Id', placeholder: 'optional: the server makes one' },
          { name: 'name', label: 'Name', required: true },
          accountField('buyerAccountId', 'Buyer', buyers),
          campaigns.length ? { name: 'campaignId', label: 'Campaign', kind: 'select', options: campaigns } : { name: 'campaignId', label: 'Campaign id', required: true },
          { name: 'bidCents', label: 'Bid per call', kind: 'money', required: true },
          { name: 'destination', label: 'Destination', required: true, placeholder: 'sip:sales@buyer.example or +15551230000' },
          { name: 'answerTimeoutSec', label: 'Ring for (seconds)', kind: 'number' },
          ...capFields,
          ...(ctx.role === 'admin' ? [{ name: 'convertOnSeconds', label: 'Converts after (seconds talked)', kind: 'number' } as Field] : []),
          { name: 'targeting', label: 'Targeting', kind: 'json', placeholder: '{"states": ["FL", "GA"]}' },
          { name: 'schedule', label: 'Schedule', kind: 'json', placeholder: '{"timeZone": "America/New_York", "hours": {"1": [[540, 1020]]}}', hint: 'open minutes from midnight per weekday (0 = Sunday); days not named are closed' },
        ],
        send: async (body) => {
          const t = await ctx.api.request<Target>('POST', '/v1/targets', completeSchedule(body));
          await reload();
          await refreshSelect(bidForm, 'targetId', await targets());
          return `Target ${t.id} created, bidding ${dollars(t.bidCents)}.`;
        },
      });
      const bidForm = form({
        id: 'bid-form', title: 'Change a bid', submit: 'Set bid',
        fields: [{ name: 'targetId', label: 'Target', kind: 'select', options: await targets().catch(() => []) }, { name: 'bidCents', label: 'New bid', kind: 'money', required: true }],
        send: async (body) => {
          await ctx.api.request('PATCH', `/v1/targets/${encodeURIComponent(String(body.targetId))}/bid`, { bidCents: body.bidCents });
          await reload();
          await refreshSelect(bidForm, 'targetId', await targets());
          return `Bid set to ${dollars(body.bidCents as number)}.`;
        },
      });
      const edit = form({
        id: 'target-edit-form', title: 'Change a target (only the fields filled in)', submit: 'Save changes',
        fields: [
          { name: 'targetId', label: 'Target', kind: 'select', options: await targets().catch(() => []) },
          { name: 'active', label: 'Taking calls', kind: 'select', options: [['', 'unchanged'], ['true', 'active'], ['false', 'paused']] },
          { name: 'destination', label: 'Destination', placeholder: 'sip:sales@buyer.example or +15551230000' },
          ...capFields,
          { name: 'targeting', label: 'Targeting', kind: 'json', placeholder: '{"states": ["FL", "GA"]}' },
          { name: 'schedule', label: 'Schedule', kind: 'json', placeholder: '{"timeZone": "America/New_York", "hours": {"1": [[540, 1020]]}}' },
        ],
        send: async (body) => {
          const id = String(body.targetId);
          const t = await ctx.api.request<Target>('PATCH', `/v1/targets/${encodeURIComponent(id)}`, completeSchedule(withBooleans(without(body, ['targetId']), ['active'])));
          await reload();
          return `Target ${t.id} saved.`;
        },
      });
      return [create, bidForm, edit];
    },
  });
}

async function refreshSelect(f: HTMLFormElement, name: string, options: Array<[string, string]>): Promise<void> {
  const s = f.elements.namedItem(name) as HTMLSelectElement | null;
  if (!s || s.tagName !== 'SELECT') return;
  const keep = s.value;
  s.replaceChildren(...options.map(([v, l]) => h('option', { value: v, selected: v === keep }, l)));
}
