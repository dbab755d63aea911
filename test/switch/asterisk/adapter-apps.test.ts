/**
 * Two Stasis apps on one Asterisk, one named as the other's prefix (`callx` and `callx-b`): the ids each adapter
 * makes (`<app>-<role>-<uuid>`) must never be taken for the other's. `callx`'s buyer legs are `callx-b-<uuid>`,
 * `callx-b`'s are `callx-b-b-<uuid>` and its bridges `callx-b-br-<uuid>`: matched by the prefix `callx-`, the
 * `callx` node claimed them, and its reconcile hung up the other app's ringing buyer leg and destroyed its pooled
 * bridge.
 */
import type { CallLeg } from '../../../app/switch/port';
import type { InboundCall } from '../../peers/asterisk/scenarios';
import { APP, attachAdapter, isEventFilterRequest, sleep, startRig, waitFor, type Rig } from './helpers';

const CALLER = { ani: '+12025550123', dnis: '+18005550100' };
const OTHER_APP = `${APP}-b`;

/** Requests that change something on the switch (anything but GET), from index `from` on. */
/** Requests that change something about calls (anything but GET and each app's event filter, set again on reconnect). */
const changes = (rig: Rig, from: number): string[] => rig.peer.requests.slice(from).filter((r) => r.method !== 'GET' && !isEventFilterRequest(r)).map((r) => `${r.method} ${r.path}`);

describe('Asterisk adapter: two Stasis apps, one named as the prefix of the other', () => {
  let a: Rig;
  let b: Rig;

  afterEach(async () => {
    await b?.adapter.stop();
    await a?.adapter.stop();
    await a?.peer.close();
  });

  /** On `rig`'s app: a bridged call that stays up, then one that ends (its bridge goes to the pool), then one whose buyer rings. */
  async function callsOf(rig: Rig, app: string): Promise<{ placed: InboundCall[]; ringing: CallLeg }> {
    const bridged = async (tag: string): Promise<InboundCall> => {
      const placed = rig.peer.placeCall({ ...CALLER, app });
      const { leg } = await rig.calls.next();
      expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: CALLER.ani, tags: { callx_call_id: `${app}-${tag}` } })).status).toBe('bridged');
      return placed;
    };
    const up = await bridged('up');
    const ended = await bridged('ended');
    ended.hangup();
    await ended.finished;
    await waitFor(() => rig.adapter.stats().idleBridges === 1, 3000, `${app}'s bridge back in its pool`);
    const ringingCall = rig.peer.placeCall({ ...CALLER, app });
    const { leg: ringing } = await rig.calls.next();
    const dialled = rig.peer.originated.length;
    void ringing.bridge({ uri: 'buyer-slow' }, { answerTimeoutSec: 30, callerIdNumber: CALLER.ani, tags: { callx_call_id: `${app}-ringing` } });
    await waitFor(() => rig.peer.originated.length === dialled + 1, 3000, `${app}'s buyer leg dialled`);
    return { placed: [up, ringingCall], ringing };
  }

  it('neither touches the other\'s channels or bridges, reconcile after a lost events socket included', async () => {
    const timeouts = { stopDrainMs: 200 };
    a = await startRig({ adapter: { timeouts } });
    b = await attachAdapter(a.peer, { adapter: { app: OTHER_APP, timeouts } });
    const peer = a.peer;
    peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
    peer.buyers.set('buyer-slow', { kind: 'no_answer' });
    const ofA = await callsOf(a, APP);
    const ofB = await callsOf(b, OTHER_APP);
    // Each app's ids as the other would misread them by prefix: callx's buyers `callx-b-<uuid>`, callx-b's everything `callx-b-...`.
    expect(peer.originated.map((o) => o.channelId)).toEqual([
      expect.stringMatching(/^callx-b-[0-9a-f]{8}-/),
      expect.stringMatching(/^callx-b-[0-9a-f]{8}-/),
      expect.stringMatching(/^callx-b-[0-9a-f]{8}-/),
      expect.stringMatching(/^callx-b-b-/),
      expect.stringMatching(/^callx-b-b-/),
      expect.stringMatching(/^callx-b-b-/),
    ]);
    expect(peer.bridges().map((br) => br.id).sort()).toEqual([
      expect.stringMatching(/^callx-b-br-/),
      expect.stringMatching(/^callx-b-br-/),
      expect.stringMatching(/^callx-br-/),
      expect.stringMatching(/^callx-br-/),
    ]);
    const channels = peer.channels().map((c) => c.id).sort();
    const bridges = peer.bridges().map((br) => [br.id, br.channels]);
    expect(channels).toHaveLength(8); // per app: the caller and buyer bridged, the caller whose buyer rings and that buyer

    // Both events sockets drop: on reconnect each adapter reconciles against GET /channels and GET /bridges.
    const from = peer.requests.length;
    peer.dropEventSockets();
    await waitFor(() => peer.requests.slice(from).filter((r) => r.path === '/ari/bridges').length === 2, 3000, 'both adapters to reconcile');
    await sleep(200);
    expect(changes(a, from)).toEqual([]);
    // Each app's event filter set again for its new socket, by its own adapter.
    expect(peer.requests.slice(from).filter(isEventFilterRequest).map((r) => `${r.path} ${r.status}`).sort()).toEqual([`/ari/applications/${APP}/eventFilter 200`, `/ari/applications/${OTHER_APP}/eventFilter 200`].sort());
    expect(peer.channels().map((c) => c.id).sort()).toEqual(channels);
    expect(peer.bridges().map((br) => [br.id, br.channels])).toEqual(bridges);
    expect(a.adapter.stats()).toMatchObject({ idleBridges: 1, channels: 4 });
    expect(b.adapter.stats()).toMatchObject({ idleBridges: 1, channels: 4 });

    // The calls end as they would have: every caller hangs up, and each adapter cleans up only its own.
    for (const placed of [...ofA.placed, ...ofB.placed]) placed.hangup();
    await Promise.all([...ofA.placed, ...ofB.placed].map((p) => p.finished));
    await waitFor(() => peer.channels().length === 0, 3000, 'no channels left');
    await waitFor(() => a.adapter.stats().channels === 0 && b.adapter.stats().channels === 0, 3000, 'both adapters\' tables empty');
    expect(peer.bridges().every((br) => br.channels.length === 0)).toBe(true);
    expect(peer.bridges()).toHaveLength(a.adapter.stats().idleBridges + b.adapter.stats().idleBridges);
    expect(peer.requests.filter((r) => r.method === 'DELETE' && r.status === 404)).toEqual([]);
  });
});
