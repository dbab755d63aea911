/**
 * Accounts and API keys (admins): the accounts list, a new account, a key for an account or the platform
 * (shown once), pausing an account, and an account's keys with revocation.
 */
import { dollars } from '../format';
import { $, form, h, scrollTable, table } from '../dom';
import type { Ctx, View } from './context';

interface Account { id: string; kind: string; name: string; active: boolean; balanceCents?: number; creditLimitCents?: number; maxBidCents?: number | null }
interface KeyRow { id: string; role: string; accountId?: string | null; label?: string; createdAt?: string; revokedAt?: string | null }

export function accountsView(): View {
  let ctx: Ctx;
  let root: HTMLElement;

  async function reload(): Promise<void> {
    const list = $('#accounts-list', root);
    try {
      const items = await ctx.api.all<Account>('/v1/accounts');
      list.replaceChildren(scrollTable(table(['Id', 'Kind', 'Name', 'Active', 'Balance', 'Credit limit', 'Max bid'],
        items.map((a) => [a.id, a.kind, a.name, a.active ? 'yes' : 'paused', dollars(a.balanceCents), dollars(a.creditLimitCents), a.maxBidCents === null || a.maxBidCents === undefined ? '' : dollars(a.maxBidCents)]), 'accounts-table')));
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error' }, `The accounts list is not available: ${(err as Error).message}`));
    }
  }

  return {
    id: 'accounts',
    title: 'Accounts',
    roles: ['admin'],
    async mount(el, c) {
      ctx = c;
      root = el;
      const create = form({
        id: 'account-form', title: 'New account', submit: 'Create account',
        fields: [
          { name: 'id', label: 'Id', placeholder: 'optional: the server makes one' },
          { name: 'kind', label: 'Kind', kind: 'select', options: [['buyer', 'buyer'], ['seller', 'seller']] },
          { name: 'name', label: 'Name', required: true },
          { name: 'creditLimitCents', label: 'Credit limit', kind: 'money' },
          { name: 'maxBidCents', label: 'Max bid (buyers)', kind: 'money' },
        ],
        send: async (body) => {
          const a = await ctx.api.request<Account>('POST', '/v1/accounts', body);
          await reload();
          return `Account ${a.id} created.`;
        },
      });
      const key = form({
        id: 'key-form', title: 'New API key', submit: 'Create key',
        fields: [
          { name: 'role', label: 'Role', kind: 'select', options: [['buyer', 'buyer'], ['seller', 'seller'], ['agent', 'agent'], ['admin', 'admin']] },
          { name: 'accountId', label: 'Account (sellers and buyers)' },
          { name: 'label', label: 'Label' },
        ],
        send: async (body) => {
          const k = await ctx.api.request<{ id: string; key: string }>('POST', '/v1/api-keys', body);
          return `Key ${k.id}: ${k.key} (shown once: copy it now)`;
        },
      });
      const pause = form({
        id: 'pause-form', title: 'Pause or resume an account', submit: 'Apply',
        fields: [{ name: 'id', label: 'Account', required: true }, { name: 'active', label: 'Active', kind: 'checkbox', value: true }],
        send: async (body) => {
          await ctx.api.request('PATCH', `/v1/accounts/${encodeURIComponent(String(body.id))}`, { active: body.active });
          await reload();
          return `Account ${String(body.id)} is ${body.active ? 'active' : 'paused'}.`;
        },
      });
      const keysOut = h('div', { id: 'keys-out' });
      const keys = form({
        id: 'keys-form', title: 'API keys', submit: 'Show keys',
        fields: [{ name: 'accountId', label: 'Account (empty: every key)' }],
        send: async (body) => {
          const items = await ctx.api.all<KeyRow>(body.accountId ? `/v1/api-keys?accountId=${encodeURIComponent(String(body.accountId))}` : '/v1/api-keys');
          keysOut.replaceChildren(scrollTable(table(['Key id', 'Role', 'Account', 'Label', 'Revoked'], items.map((k) => [k.id, k.role, k.accountId ?? '', k.label ?? '', k.revokedAt ? 'revoked' : '']), 'keys-table')));
          return `${items.length} keys.`;
        },
      });
      const revoke = form({
        id: 'revoke-form', title: 'Revoke a key', submit: 'Revoke',
        fields: [{ name: 'keyId', label: 'Key id', required: true, placeholder: 'key_0123456789ab' }],
        send: async (body) => {
          await ctx.api.request('DELETE', `/v1/api-keys/${encodeURIComponent(String(body.keyId))}`);
          return `Key ${String(body.keyId)} revoked on every node.`;
        },
      });
      keys.append(keysOut);
      el.append(h('section', { class: 'card wide' }, h('h2', {}, 'Accounts'), h('div', { id: 'accounts-list' })), ...[create, key, pause, keys, revoke].map((f) => h('section', { class: 'card' }, f)));
      await reload();
    },
    refresh: () => reload(),
  };
}
