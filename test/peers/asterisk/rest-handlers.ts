/**
 * The ARI REST operations the peer serves, with Asterisk 22's validation order, status codes and error bodies
 * (test/fixtures/asterisk/recorded.json, `errors`): 404 `Channel not found` / `Bridge not found`, 400 for a
 * missing parameter or an unknown channel in addChannel, 409 / 422 `Channel not in Stasis application`, and
 * 500 `{"error": "Allocation failed"}` for an originate to an unknown endpoint.
 */
import { randomUUID } from 'node:crypto';
import { HANGUP_REASONS } from './causes';
import { PeerChannel } from './model';
import type { Scenarios } from './scenarios';
import { parseDialTarget } from './scripts';
import type { SwitchState } from './switch-state';
import { ariTimestamp, parseCallerId } from './wire-format';

export interface RestResult {
  status: number;
  /** JSON body; undefined: no body (204). */
  body?: unknown;
  /** Events to emit after the response went out (Asterisk answers some requests before it acts). */
  after?: () => void;
}

export interface RestRequest {
  params: string[];
  query: URLSearchParams;
  body: unknown;
}

const message = (status: number, text: string): RestResult => ({ status, body: { message: text } });
const NO_CONTENT: RestResult = { status: 204 };
const BRIDGE_TYPES = new Set(['mixing', 'holding', 'dtmf_events', 'proxy_media', 'video_sfu', 'video_single']);

/** A parameter from the query string, else from a JSON body (ARI accepts both). */
function param(req: RestRequest, name: string): string | undefined {
  const q = req.query.get(name);
  if (q !== null) return q;
  const b = req.body;
  if (b && typeof b === 'object' && name in b) {
    const v = (b as Record<string, unknown>)[name];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
}

/** The body's `variables` object; undefined when a value is not a string (Asterisk refuses those with 400). */
function bodyVariables(body: unknown): Record<string, string> | undefined {
  if (!body || typeof body !== 'object') return {};
  const vars = (body as Record<string, unknown>).variables;
  if (!vars || typeof vars !== 'object' || Array.isArray(vars)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}

export class RestHandlers {
  constructor(
    private readonly s: SwitchState,
    private readonly scenarios: Scenarios,
    private readonly asteriskInfo: Record<string, unknown>,
    /** Asterisk 13.26 / 16.3 and later: the Application model shows the app's event filter. */
    private readonly eventFilters = true,
  ) {}

  private channel(id: string | undefined): PeerChannel | undefined {
    return id === undefined ? undefined : this.s.channels.get(id);
  }

  // ---- channels ----------------------------------------------------------------------------------------------

  listChannels = (): RestResult => ({ status: 200, body: [...this.s.channels.values()].map((c) => this.s.snapshot(c)) });

  getChannel = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    return ch ? { status: 200, body: this.s.snapshot(ch) } : message(404, 'Channel not found');
  };

  originate = (req: RestRequest): RestResult => {
    const variables = bodyVariables(req.body); // checked first, as Asterisk does
    if (!variables) return message(400, "Only string values in the 'variables' object allowed");
    const endpoint = param(req, 'endpoint');
    if (!endpoint) return message(400, 'Endpoint must be specified');
    const app = param(req, 'app');
    const extension = param(req, 'extension');
    if (!app && !extension) return message(400, 'Application or extension must be specified');
    const channelId = req.params[0] ?? param(req, 'channelId');
    if (channelId !== undefined && this.s.channels.has(channelId)) return message(409, 'Channel with given unique ID already exists');
    const target = parseDialTarget(endpoint);
    const known =
      target !== undefined &&
      (target.tech === 'Local' || (target.tech === 'PJSIP' && (this.s.endpoints.has(target.endpoint) || this.scenarios.buyers.has(target.endpoint) || this.scenarios.consumers.has(target.endpoint))));
    if (!target || !known) return { status: 500, body: { error: 'Allocation failed' } };

    const identity = this.s.nextChannelIdentity(target.endpoint);
    const callerId = parseCallerId(param(req, 'callerId'));
    const ch = new PeerChannel(
      channelId ?? identity.id,
      target.tech === 'Local' ? `Local/${target.resource}-${identity.seq.toString(16).padStart(8, '0')};1` : identity.name,
      'originate',
      callerId,
      target.tech === 'Local' ? '' : randomUUID(),
      Date.now(),
      {
        state: 'Down',
        connected: { ...callerId },
        dialplan: { context: param(req, 'context') ?? 'from-external', exten: extension ?? 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)' },
      },
      target.endpoint,
    );
    for (const [k, v] of Object.entries(variables)) ch.vars.set(k, v);
    this.s.channels.set(ch.id, ch);
    const snapshot = this.s.snapshot(ch);
    if (!app || target.tech === 'Local') return { status: 200, body: snapshot }; // runs dialplan: no events for us
    ch.subscribedApp = app;
    const timeout = Number(param(req, 'timeout') ?? '30');
    const args = (param(req, 'appArgs') ?? '').split(',').filter((a) => a !== '');
    return {
      status: 200,
      body: snapshot,
      after: () => this.scenarios.dial(ch, target, { app, args, timeoutSec: Number.isFinite(timeout) && timeout > 0 ? timeout : 30, callerId }),
    };
  };

  answer = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    this.scenarios.answer(ch); // its ChannelStateChange goes out before the 204, as recorded
    return NO_CONTENT;
  };

  hangup = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    const reason = param(req, 'reason');
    const reasonCode = param(req, 'reason_code');
    if (reason !== undefined && !(reason in HANGUP_REASONS)) return message(400, 'Invalid reason for hangup reason provided');
    const cause = reasonCode !== undefined && /^\d+$/.test(reasonCode) ? Number(reasonCode) : HANGUP_REASONS[reason ?? 'normal'] ?? 16;
    return {
      status: 204,
      after: () => this.s.endChannel(ch, { request: { cause: 32, soft: true }, cause, dialStatus: 'CANCEL', by: 'app', reason: reason ?? (reasonCode !== undefined ? `reason_code ${reasonCode}` : 'normal') }),
    };
  };

  /** `POST ring`: the caller hears 180; `DELETE ring` stops the indication and sends nothing (fact 16). */
  ring = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    if (ch.origin === 'dialplan' && ch.state !== 'Up') ch.respond(180);
    return NO_CONTENT;
  };

  ringStop = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    return NO_CONTENT;
  };

  /** `POST progress`: 183 Session Progress (early media) unless one was sent already; the call stays unanswered. */
  progress = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    if (ch.origin === 'dialplan' && ch.state !== 'Up') ch.respond(183);
    return NO_CONTENT;
  };

  /** `POST continue`: the channel leaves Stasis and the dialplan goes on (extensions.conf's fallback). */
  continueInDialplan = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    return { status: 204, after: () => this.s.continueInDialplan(ch) };
  };

  play = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    if (!ch) return message(404, 'Channel not found');
    const media = param(req, 'media');
    if (!media) return message(400, 'Missing parameter media');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    // Playing to an unanswered caller opens early media (183 with SDP) and does not answer (fact 16).
    if (ch.origin === 'dialplan' && ch.state !== 'Up') ch.respond(183);
    const id = req.params[1] ?? param(req, 'playbackId') ?? randomUUID();
    if (this.s.playbacks.has(id)) return message(409, 'Playback with given unique ID already exists');
    const pb = this.s.startPlayback(ch, id, media);
    return { status: 201, body: pb.json() };
  };

  getVariable = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    const name = param(req, 'variable');
    if (!name) return message(400, 'Variable name is required');
    if (!ch) return message(404, 'Channel not found');
    const value = ch.vars.get(name);
    return value === undefined ? message(404, 'Provided variable was not found') : { status: 200, body: { value } };
  };

  setVariable = (req: RestRequest): RestResult => {
    const ch = this.channel(req.params[0]);
    const name = param(req, 'variable');
    if (!name) return message(400, 'Variable name is required');
    if (!ch) return message(404, 'Channel not found');
    if (!ch.inStasis) return message(409, 'Channel not in Stasis application');
    this.s.setVar(ch, name, param(req, 'value') ?? '');
    return NO_CONTENT;
  };

  // ---- bridges -----------------------------------------------------------------------------------------------

  listBridges = (): RestResult => ({ status: 200, body: [...this.s.bridges.values()].map((b) => b.json()) });

  getBridge = (req: RestRequest): RestResult => {
    const b = this.s.bridges.get(req.params[0] ?? '');
    return b ? { status: 200, body: b.json() } : message(404, 'Bridge not found');
  };

  createBridge = (req: RestRequest): RestResult => {
    const fromQuery = req.params[0] ?? req.query.get('bridgeId') ?? undefined;
    const id = fromQuery ?? param(req, 'bridgeId');
    const type = (param(req, 'type') ?? 'mixing').split(',')[0] ?? 'mixing';
    if (id !== undefined && this.s.bridges.has(id)) {
      return fromQuery !== undefined
        ? message(409, `Bridge with id '${id}' already exists`)
        : message(500, `Unable to create bridge. Possible duplicate bridge id '${id}'`);
    }
    if (!BRIDGE_TYPES.has(type)) return message(500, `Unable to create bridge. Possible duplicate bridge id '${id ?? '(null)'}'`);
    const bridge = this.s.createBridge(id, param(req, 'name') ?? '', type, this.s.options.app);
    return { status: 200, body: bridge.json() };
  };

  destroyBridge = (req: RestRequest): RestResult => {
    const bridge = this.s.bridges.get(req.params[0] ?? '');
    if (!bridge) return message(404, 'Bridge not found');
    this.s.bridges.delete(bridge.id);
    return { status: 204, after: () => this.s.destroyBridge(bridge) };
  };

  addChannel = (req: RestRequest): RestResult => {
    const ids = (param(req, 'channel') ?? '').split(',').filter((c) => c !== '');
    if (ids.length === 0) return message(400, 'Missing parameter channel');
    const bridge = this.s.bridges.get(req.params[0] ?? '');
    if (!bridge) return message(404, 'Bridge not found');
    const chans: PeerChannel[] = [];
    for (const id of ids) {
      const ch = this.channel(id);
      if (!ch) return message(400, 'Channel not found');
      if (!ch.inStasis) return message(422, 'Channel not in Stasis application');
      chans.push(ch);
    }
    for (const ch of chans) this.s.enterBridge(ch, bridge);
    this.s.settleBridge(bridge);
    return NO_CONTENT;
  };

  removeChannel = (req: RestRequest): RestResult => {
    const ids = (param(req, 'channel') ?? '').split(',').filter((c) => c !== '');
    if (ids.length === 0) return message(400, 'Missing parameter channel');
    const bridge = this.s.bridges.get(req.params[0] ?? '');
    if (!bridge) return message(404, 'Bridge not found');
    const chans: PeerChannel[] = [];
    for (const id of ids) {
      const ch = this.channel(id);
      if (!ch) return message(400, 'Channel not found');
      if (!ch.inStasis) return message(422, 'Channel not in Stasis application');
      if (ch.bridgeId !== bridge.id) return message(422, 'Channel not in this bridge');
      chans.push(ch);
    }
    for (const ch of chans) this.s.leaveBridge(ch);
    return NO_CONTENT;
  };

  // ---- playbacks, asterisk, applications ---------------------------------------------------------------------

  getPlayback = (req: RestRequest): RestResult => {
    const pb = this.s.playbacks.get(req.params[0] ?? '');
    return pb ? { status: 200, body: pb.json() } : message(404, 'Playback not found');
  };

  stopPlayback = (req: RestRequest): RestResult => {
    const pb = this.s.playbacks.get(req.params[0] ?? '');
    if (!pb) return message(404, 'Playback not found');
    return { status: 204, after: () => this.s.finishPlayback(pb.id, 'done') };
  };

  info = (): RestResult => ({ status: 200, body: this.asteriskInfo });

  ping = (): RestResult => ({ status: 200, body: { asterisk_id: this.s.options.asteriskId, ping: 'pong', timestamp: ariTimestamp() } });

  private applicationJson(name: string): Record<string, unknown> {
    const channelIds = [...this.s.channels.values()].filter((c) => c.subscribedApp === name).map((c) => c.id);
    const bridgeIds = [...this.s.bridges.values()].filter((b) => b.app === name).map((b) => b.id);
    const app: Record<string, unknown> = { name, channel_ids: channelIds, bridge_ids: bridgeIds, endpoint_ids: [], device_names: [] };
    if (!this.eventFilters) return app; // the model before 13.26 / 16.3 had no filter fields
    const filter = this.s.hub.filterOf(name)?.json();
    return { ...app, events_allowed: filter?.events_allowed ?? [], events_disallowed: filter?.events_disallowed ?? [] };
  }

  listApplications = (): RestResult => ({ status: 200, body: this.s.hub.isActive(this.s.options.app) ? [this.applicationJson(this.s.options.app)] : [] });

  getApplication = (req: RestRequest): RestResult => {
    const name = req.params[0] ?? '';
    return this.s.hub.isActive(name) ? { status: 200, body: this.applicationJson(name) } : message(404, 'Application not found');
  };

  /** `PUT /applications/{app}/eventFilter` (13.26 / 16.3 and later): the body is the filter (event-filter.ts). */
  setEventFilter = (req: RestRequest): RestResult => {
    const name = req.params[0] ?? '';
    const filter = this.s.hub.filterOf(name);
    if (!filter) return message(404, 'Application not found');
    const result = filter.set(req.body);
    return result.ok ? { status: 200, body: this.applicationJson(name) } : message(400, result.message);
  };
}
