/**
 * DNC and block lists: add a number, upload a list file with a progress bar (POST /v1/dnc/imports streams it),
 * and for admins the caller block list. A seller writes its own campaigns' lists and its seller DNC list.
 */
import { form, h, scrollTable, table } from '../dom';
import type { Ctx, View } from './context';

interface ImportSummary { lines: number; accepted: number; rejected: number; rejectedSamples?: Array<{ line: number; text?: string; reason: string }> }
interface Block { number: string; reason: string; createdAt?: string }

export function listsView(): View {
  return {
    id: 'lists',
    title: 'DNC and blocks',
    roles: ['admin', 'seller'],
    async mount(el, ctx: Ctx) {
      const listHint = ctx.role === 'admin' ? 'global, registry, campaign:<id> or seller:<id>' : `campaign:<id> or seller:${ctx.accountId ?? ''}`;
      const add = form({
        id: 'dnc-form', title: 'Add a number to a DNC list', submit: 'Add',
        fields: [{ name: 'list', label: 'List', required: true, hint: listHint, value: ctx.role === 'admin' ? 'global' : `seller:${ctx.accountId ?? ''}` }, { name: 'number', label: 'Number', required: true }],
        send: async (body) => {
          await ctx.api.request('POST', '/v1/dnc', body);
          return `${String(body.number)} is on ${String(body.list)} from the next call.`;
        },
      });
      const progress = h('progress', { id: 'upload-progress', max: 100, value: 0 });
      const result = h('div', { id: 'upload-result' });
      const upload = form({
        id: 'upload-form', title: 'Upload a DNC list (CSV or text, one number a line)', submit: 'Upload',
        fields: [{ name: 'list', label: 'List', required: true, hint: listHint, value: ctx.role === 'admin' ? 'global' : `seller:${ctx.accountId ?? ''}` }, { name: 'file', label: 'File', kind: 'file' }],
        send: async (body, f) => {
          const file = (f.elements.namedItem('file') as HTMLInputElement).files?.[0];
          if (!file) throw new Error('choose a file first');
          progress.value = 0;
          const s = await ctx.api.upload<ImportSummary>(`/v1/dnc/imports?list=${encodeURIComponent(String(body.list))}&source=console`, file, file.name.endsWith('.csv') ? 'text/csv' : 'text/plain', (share) => {
            progress.value = Math.round(share * 100);
          });
          result.replaceChildren(s.rejectedSamples?.length ? scrollTable(table(['Line', 'Text', 'Why refused'], s.rejectedSamples.map((r) => [String(r.line), r.text ?? '', r.reason.replace(/_/g, ' ')]), 'rejected-lines')) : '');
          return `${s.accepted} of ${s.lines} lines added to ${String(body.list)}; ${s.rejected} refused.`;
        },
      });
      upload.append(progress, result);
      const sections = [add, upload];
      if (ctx.role === 'admin') {
        const blocks = h('div', { id: 'blocks-list' });
        const reload = async (): Promise<void> => {
          const page = await ctx.api.list<Block>('/v1/fraud/blocks?limit=100');
          blocks.replaceChildren(scrollTable(table(['Number', 'Reason', 'Since'], page.items.map((b) => [b.number, b.reason, b.createdAt ? new Date(b.createdAt).toLocaleString() : '']), 'blocks-table')));
        };
        const block = form({
          id: 'block-form', title: 'Block a caller', submit: 'Block',
          fields: [{ name: 'number', label: 'Number', required: true }, { name: 'reason', label: 'Reason', required: true }],
          send: async (body) => {
            await ctx.api.request('POST', '/v1/fraud/blocks', body);
            await reload();
            return `${String(body.number)} is blocked from the next call.`;
          },
        });
        block.append(h('h3', {}, 'Blocked callers'), blocks);
        sections.push(block);
        await reload().catch((err: Error) => blocks.replaceChildren(h('p', { class: 'error' }, err.message)));
      }
      el.append(...sections.map((f) => h('section', { class: 'card' }, f)));
    },
  };
}
