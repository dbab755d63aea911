/**
 * AriRest over `ari-client` 2.2.0, which builds its API from the switch's Swagger 1.1 description at connect time.
 * What this wrapper makes up for:
 * - no timeouts (a refused connection leaves its promise pending forever): every call gets one;
 * - errors carry only the response body (`{"message": ...}` or, for Allocation failed, `{"error": ...}`), not
 *   the status: the body text is mapped to an AriErrorKind;
 * - results are resource objects holding the client: only plain fields are kept;
 * - its swagger-client installs a global `log` that writes to the console: it is routed to our logger.
 * Its WebSocket half is not used (see event-stream.ts).
 */
import type { AriClient } from 'ari-client';
import type { Logger } from '../../observability/logger';
import { withTimeout } from '../../util/backoff';
import type { HangupCause } from '../port';
import type { AriBridge, AriChannel } from './ari-model';
import { bodyMessage, errorKind, plainBridge, plainChannel } from './ari-results';
import { causeCode, hangupReason } from './causes';
import { AriError, eventFilterBody, isVariableNotSet, type AriRest, type OriginateParams } from './ari-rest';

type AriClientModule = typeof import('ari-client');

let loaded: AriClientModule | undefined;

/** Loads ari-client once and silences the global console logger its swagger-client defines. */
function loadAriClient(log: Logger): AriClientModule {
  if (loaded) return loaded;
  const g = globalThis as { log?: unknown };
  const hadGlobalLog = 'log' in g;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require('ari-client') as AriClientModule;
  if (!hadGlobalLog && typeof g.log === 'function') {
    g.log = (...args: unknown[]): void => log.debug({ swagger: args.map(String) }, 'swagger-client');
  }
  return loaded;
}

export class AriClientRest implements AriRest {
  private constructor(
    private readonly client: AriClient,
    private readonly restMs: number,
  ) {}

  /** Loads the API description; rejects if the switch does not serve it within `connectMs`. */
  static async connect(cfg: { url: string; username: string; password: string }, restMs: number, connectMs: number, log: Logger): Promise<AriClientRest> {
    const ari = loadAriClient(log);
    const client = await withTimeout(Promise.resolve(ari.connect(cfg.url, cfg.username, cfg.password)), connectMs, 'loading the ARI API description');
    return new AriClientRest(client, restMs);
  }

  private async call(operation: string, run: () => PromiseLike<unknown>): Promise<unknown> {
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(run());
    } catch (err) {
      throw new AriError('other', operation, (err as Error).message);
    }
    const timeoutMarker = `${operation} timed out after`;
    try {
      return await withTimeout(pending, this.restMs, operation);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (text.startsWith(timeoutMarker)) throw new AriError('timeout', operation, text.slice(operation.length + 1));
      const message = bodyMessage(text);
      throw new AriError(errorKind(message), operation, message);
    }
  }

  async listChannels(): Promise<AriChannel[]> {
    const list = await this.call('GET /channels', () => this.client.channels.list());
    return Array.isArray(list) ? list.map(plainChannel) : [];
  }

  async getChannel(id: string): Promise<AriChannel> {
    return plainChannel(await this.call(`GET /channels/${id}`, () => this.client.channels.get({ channelId: id })));
  }

  async listBridges(): Promise<AriBridge[]> {
    const list = await this.call('GET /bridges', () => this.client.bridges.list());
    return Array.isArray(list) ? list.map(plainBridge) : [];
  }

  async originate(p: OriginateParams): Promise<AriChannel> {
    const params: Record<string, string | number | Record<string, string>> = {
      endpoint: p.endpoint,
      app: p.app,
      appArgs: p.appArgs,
      timeout: p.timeoutSec,
      channelId: p.channelId,
    };
    if (p.callerId !== undefined) params.callerId = p.callerId;
    if (p.variables && Object.keys(p.variables).length > 0) params.variables = p.variables;
    return plainChannel(await this.call(`POST /channels (${p.endpoint})`, () => this.client.channels.originate(params)));
  }

  async answer(channelId: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/answer`, () => this.client.channels.answer({ channelId }));
  }

  async hangup(channelId: string, cause: HangupCause): Promise<void> {
    const code = causeCode(cause);
    const how = code !== undefined ? { reason_code: String(code) } : { reason: hangupReason(cause) };
    await this.call(`DELETE /channels/${channelId}`, () => this.client.channels.hangup({ channelId, ...how }));
  }

  async play(channelId: string, media: string, playbackId: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/play`, () => this.client.channels.play({ channelId, media, playbackId }));
  }

  async ring(channelId: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/ring`, () => this.client.channels.ring({ channelId }));
  }

  async progress(channelId: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/progress`, () => this.client.channels.progress({ channelId }));
  }

  async getVariable(channelId: string, name: string): Promise<string | undefined> {
    try {
      const body = (await this.call(`GET /channels/${channelId}/variable`, () => this.client.channels.getChannelVar({ channelId, variable: name }))) as { value?: unknown } | undefined;
      return typeof body?.value === 'string' ? body.value : undefined;
    } catch (err) {
      if (isVariableNotSet(err)) return undefined;
      throw err;
    }
  }

  async setVariable(channelId: string, name: string, value: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/variable`, () => this.client.channels.setChannelVar({ channelId, variable: name, value }));
  }

  async continueInDialplan(channelId: string): Promise<void> {
    await this.call(`POST /channels/${channelId}/continue`, () => this.client.channels.continueInDialplan({ channelId }));
  }

  async createBridge(bridgeId: string, name: string): Promise<AriBridge> {
    return plainBridge(await this.call('POST /bridges', () => this.client.bridges.create({ type: 'mixing', bridgeId, name })));
  }

  async addChannels(bridgeId: string, channelIds: string[]): Promise<void> {
    await this.call(`POST /bridges/${bridgeId}/addChannel`, () => this.client.bridges.addChannel({ bridgeId, channel: channelIds.join(',') }));
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    await this.call(`DELETE /bridges/${bridgeId}`, () => this.client.bridges.destroy({ bridgeId }));
  }

  /** ari-client builds its operations from the switch's api-docs: an Asterisk without eventFilter has no `filter`. */
  async setEventFilter(app: string, allowed: readonly string[]): Promise<void> {
    const operation = `PUT /applications/${app}/eventFilter`;
    const ops = this.client.applications;
    const filter = typeof ops?.filter === 'function' ? ops.filter.bind(ops) : undefined;
    if (!filter) throw new AriError('unsupported', operation, 'not in the switch\'s API description (Asterisk older than 13.26 / 16.3)');
    await this.call(operation, () => filter({ applicationName: app, filter: eventFilterBody(allowed) }));
  }
}
