/**
 * The console: log in with an API key, then the views the key's role may use (views/*.ts), one tab each. The key
 * is kept in sessionStorage for this tab only; every request and the socket carry it. The role and account come
 * from the socket's `ready` event, which the server sends once it accepted the key.
 */
import { io, type Socket } from 'socket.io-client';
import { Api, ApiError } from './api';
import { $, h } from './dom';
import { accountsView } from './views/accounts';
import { callLogView } from './views/call-log';
import { campaignsView, targetsView } from './views/campaigns';
import type { Ctx, Role, View } from './views/context';
import { listsView } from './views/lists';
import { moneyView } from './views/money';
import { overviewView } from './views/overview';
import { reportsView } from './views/reports';
import { TracePanel } from './views/trace';

const KEY_STORAGE = 'callx.apiKey';

class Console {
  private socket: Socket | undefined;
  private ctx: Ctx | undefined;
  private readonly views: View[];
  private readonly mounted = new Set<string>();
  private readonly trace = new TracePanel(() => this.ctx!);

  constructor(private readonly key: string) {
    this.views = [overviewView(() => this.socket), callLogView(), reportsView(), campaignsView(), targetsView(), accountsView(), moneyView(), listsView()];
  }

  async start(): Promise<void> {
    const api = new Api(this.key);
    await api.get('/v1/calls?limit=1'); // a refused key fails here, with the API's words
    const who = await this.connect();
    this.ctx = { api, role: who.role, accountId: who.accountId, showCall: (id) => void this.trace.show(id) };
    $('#whoami').textContent = who.accountId ? `${who.role} · ${who.accountId}` : who.role;
    const nav = $('#nav');
    nav.replaceChildren();
    for (const v of this.views.filter((x) => x.roles.includes(who.role))) {
      nav.append(h('a', { href: `#${v.id}`, 'data-view': v.id }, v.title));
      $('#views').append(h('section', { id: `view-${v.id}`, class: 'view grid', hidden: true }));
    }
    window.addEventListener('hashchange', () => void this.show(location.hash.slice(1)));
    await this.show(location.hash.slice(1));
  }

  /** Opens a view (the overview when the hash names none this role has). */
  private async show(id: string): Promise<void> {
    const ctx = this.ctx!;
    const view = this.views.find((v) => v.id === id && v.roles.includes(ctx.role)) ?? this.views[0]!;
    for (const a of document.querySelectorAll<HTMLElement>('#nav a')) a.classList.toggle('active', a.dataset.view === view.id);
    for (const s of document.querySelectorAll<HTMLElement>('#views > .view')) s.hidden = s.id !== `view-${view.id}`;
    const root = $(`#view-${view.id}`);
    if (!this.mounted.has(view.id)) {
      this.mounted.add(view.id);
      try {
        await view.mount(root, ctx);
      } catch (err) {
        root.append(h('p', { class: 'error' }, `Could not load ${view.title}: ${(err as Error).message}`));
      }
    } else await view.refresh?.();
  }

  /** The live socket; resolves with the key's role once the server accepted it. */
  private connect(): Promise<{ role: Role; accountId: string | null }> {
    const status = $('#live-status');
    const socket = io(window.location.origin, { path: '/live', auth: { token: this.key }, transports: ['websocket'] });
    this.socket = socket;
    socket.on('disconnect', () => {
      status.textContent = 'reconnecting…';
      status.dataset.state = 'off';
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the live connection did not answer')), 20_000);
      socket.on('ready', (who: { role: Role; accountId: string | null }) => {
        clearTimeout(timer);
        status.textContent = 'live';
        status.dataset.state = 'on';
        resolve(who);
      });
      socket.on('connect_error', (err: Error) => {
        status.textContent = `offline: ${err.message}`;
        status.dataset.state = 'off';
      });
    });
  }

  stop(): void {
    this.socket?.disconnect();
    for (const v of this.views) v.stop?.();
  }
}

let current: Console | undefined;

async function logIn(key: string): Promise<void> {
  const error = $('#login-error');
  error.textContent = '';
  const c = new Console(key);
  try {
    await c.start();
  } catch (err) {
    c.stop();
    sessionStorage.removeItem(KEY_STORAGE);
    error.textContent = err instanceof ApiError && err.status === 401 ? 'That API key was refused: it is unknown or revoked.' : err instanceof ApiError && err.status === 403 ? `This key may not use the console: ${err.message}` : `Could not log in: ${(err as Error).message}`;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  current = c;
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
  window.location.hash = '';
  window.location.reload();
});
const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) void logIn(saved);
