/**
 * Test helpers for driving the Asterisk adapter through the Asterisk peer: a started pair, a queue of handed-over
 * calls standing in for the pipeline, and small waits.
 */
import { createLogger, silentLogger, type Logger } from '../../../app/observability/logger';
import { AsteriskAdapter, type AsteriskAdapterConfig } from '../../../app/switch/asterisk';
import type { RestFactory } from '../../../app/switch/asterisk/adapter';
import type { CallInfo, CallLeg, LegEnd } from '../../../app/switch/port';
import { AsteriskPeer, confPeerOptions, type AsteriskPeerOptions } from '../../peers/asterisk';

export const APP = 'callx';
/** What asterisk-conf/ dictates of the switch: ari.conf `channelvars`, pjsip.conf `send_connected_line`. */
export const CONF = confPeerOptions();

export const FAST_TIMEOUTS = {
  restMs: 1000,
  connectMs: 2000,
  handshakeMs: 1000,
  bridgeMarginMs: 1000,
  stasisStartMs: 500,
  hangupMs: 1000,
  originateMarginMs: 1000,
  startWaitMs: 3000,
  reconnectInitialMs: 50,
  reconnectMaxMs: 200,
};

export interface HandedCall {
  leg: CallLeg;
  info: CallInfo;
}

/** Collects the calls the adapter hands to its handler. */
export class CallQueue {
  readonly all: HandedCall[] = [];
  private readonly items: HandedCall[] = [];
  private waiters: Array<() => void> = [];

  readonly handler = (leg: CallLeg, info: CallInfo): void => {
    const call = { leg, info };
    this.all.push(call);
    this.items.push(call);
    for (const fn of this.waiters.splice(0)) fn();
  };

  async next(timeoutMs = 3000): Promise<HandedCall> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no call was handed over');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.items.shift() as HandedCall;
  }
}

/** Resolves with the first LegEnd and counts how many times onEnded fired. */
export function watchEnd(leg: CallLeg): { ended: Promise<LegEnd>; count: () => number } {
  let n = 0;
  const ended = new Promise<LegEnd>((resolve) =>
    leg.onEnded((end) => {
      n++;
      resolve(end);
    }),
  );
  return { ended, count: () => n };
}

export async function waitFor(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Rig {
  peer: AsteriskPeer;
  adapter: AsteriskAdapter;
  calls: CallQueue;
}

export async function startRig(
  opts: { peer?: AsteriskPeerOptions; adapter?: Partial<AsteriskAdapterConfig>; logger?: Logger; start?: boolean; restFactory?: RestFactory } = {},
): Promise<Rig> {
  const peer = new AsteriskPeer({ app: APP, ...CONF, endpoints: ['carrier', 'buyers', 'consumers'], timeScale: 0.2, ...opts.peer });
  await peer.listen();
  return attachAdapter(peer, opts);
}

/** An adapter (and its call queue) on an existing peer: a second node, or the same node restarted. */
export async function attachAdapter(
  peer: AsteriskPeer,
  opts: { adapter?: Partial<AsteriskAdapterConfig>; logger?: Logger; start?: boolean; restFactory?: RestFactory } = {},
): Promise<Rig> {
  const calls = new CallQueue();
  const adapter = new AsteriskAdapter({
    url: peer.url,
    username: 'callx',
    password: 'secret',
    app: APP,
    buyerTrunk: 'buyers',
    consumerTrunk: 'consumers',
    prompts: { no_buyer: 'ss-noservice', no_buyer_available: 'tt-allbusy', error: 'an-error-has-occured' },
    logger: opts.logger ?? (process.env.ARI_TEST_LOG ? createLogger(process.env.ARI_TEST_LOG) : silentLogger()),
    ...opts.adapter,
    timeouts: { ...FAST_TIMEOUTS, ...opts.adapter?.timeouts },
  }, opts.restFactory);
  if (opts.start !== false) await adapter.start(calls.handler);
  return { peer, adapter, calls };
}

/**
 * Nothing left on the switch nor in the adapter's tables, but the empty bridges the adapter keeps for the next
 * call: as many as its pool holds, each with no channel in it.
 */
export async function expectNothingDangles(rig: Rig): Promise<void> {
  const leftovers = (): boolean => rig.peer.channels().length === 0 && rig.peer.bridges().length === rig.adapter.stats().idleBridges && rig.peer.bridges().every((b) => b.channels.length === 0);
  await waitFor(leftovers, 3000, `no channels/bridges on the peer but idle ones (have ${JSON.stringify(rig.peer.channels().map((c) => c.id))} / ${JSON.stringify(rig.peer.bridges().map((b) => [b.id, b.channels]))}, idle ${rig.adapter.stats().idleBridges})`);
  await waitFor(() => rig.adapter.stats().channels === 0 && rig.adapter.stats().bridges === 0, 3000, `adapter tables empty (${JSON.stringify(rig.adapter.stats())})`);
}

export async function stopRig(rig: Rig): Promise<void> {
  await rig.adapter.stop();
  await rig.peer.close();
}

/** The app's event filter request, made on every connect: about the Stasis app, touching no call. */
export const isEventFilterRequest = (r: { method: string; path: string }): boolean => r.method === 'PUT' && /^\/ari\/applications\/[^/?]+\/eventFilter(\?|$)/.test(r.path);
