/**
 * The app's event filter through the Asterisk peer (issue 17): after each events WebSocket (re)connect the adapter
 * asks for the event types it reads only, calls go as before with far fewer events on the wire, a new node sets
 * it again, an Asterisk without eventFilter (older than 16.3) gets one warning and unfiltered events, and a filter
 * request that fails is retried without holding up any call.
 */
import { httpRestFactory, type RestFactory } from '../../../app/switch/asterisk/adapter';
import { AriError } from '../../../app/switch/asterisk/ari-rest';
import { HANDLED_EVENT_TYPES } from '../../../app/switch/asterisk/channel-router';
import type { CallInProgress } from '../../../app/switch/port';
import { RawAri } from '../../peers/asterisk/raw-ari';
import { APP, attachAdapter, expectNothingDangles, startRig, stopRig, waitFor, watchEnd, type Rig } from './helpers';
import { captureLogger, ERROR, WARN } from '../../support/log-capture';

const CALLER = { ani: '+12025550123', dnis: '+18005550100' };
const CREDS = { username: 'callx', password: 'secret' };
const HANDLED = new Set<string>(HANDLED_EVENT_TYPES);
const FILTER_PUT = `PUT /ari/applications/${APP}/eventFilter`;

const filterPuts = (rig: Rig): number[] => rig.peer.requests.filter((r) => `${r.method} ${r.path}` === FILTER_PUT).map((r) => r.status);

async function appFilter(rig: Rig): Promise<unknown> {
  const app = (await new RawAri(rig.peer.url, CREDS).request('GET', `/ari/applications/${APP}`)).json as { events_allowed?: Array<{ type: string }>; events_disallowed?: unknown };
  return { allowed: app.events_allowed?.map((e) => e.type).sort(), disallowed: app.events_disallowed };
}

const filterSet = { allowed: [...HANDLED_EVENT_TYPES].sort(), disallowed: [] };

/**
 * One call as the pipeline runs it: a busy buyer, one that does not answer, then one that answers; the caller
 * hangs up mid-bridge. Returns what the adapter reported and how many events went on the wire for it.
 */
async function failoverCall(rig: Rig): Promise<{ outcomes: string[]; end: unknown; record: unknown; wireEvents: number; wireBytes: number }> {
  rig.peer.buyers.set('buyer-busy', { kind: 'busy', afterMs: 5 });
  rig.peer.buyers.set('buyer-slow', { kind: 'no_answer' });
  rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
  const before = rig.peer.wire;
  const placed = rig.peer.placeCall(CALLER);
  const { leg, info } = await rig.calls.next();
  const end = watchEnd(leg);
  const outcomes: string[] = [];
  for (const uri of ['buyer-busy', 'buyer-slow', 'buyer-a']) {
    outcomes.push((await leg.bridge({ uri }, { answerTimeoutSec: 1, callerIdNumber: info.ani, tags: { callx_call_id: 'c-filter' } })).status);
  }
  placed.hangup();
  const legEnd = await end.ended;
  const record = await placed.finished;
  await expectNothingDangles(rig);
  const after = rig.peer.wire;
  return {
    outcomes,
    end: { hungUpBy: legEnd.hungUpBy, cause: legEnd.cause },
    record: { endedBy: record.endedBy, sip: record.sip },
    wireEvents: after.events - before.events,
    wireBytes: after.eventBytes - before.eventBytes,
  };
}

describe('Asterisk adapter: the event filter', () => {
  let rig: Rig;
  const extra: Rig[] = [];

  afterEach(async () => {
    for (const r of extra.splice(0)) await r.adapter.stop();
    await stopRig(rig);
  });

  it('asks for the event types it reads once connected; calls go as before with only those on the wire, about a third of the events', async () => {
    rig = await startRig();
    await waitFor(() => rig.adapter.stats().eventFilter === 'set', 2000, 'the filter to be set');
    expect(filterPuts(rig)).toEqual([200]);
    expect(await appFilter(rig)).toEqual(filterSet);

    const filtered = await failoverCall(rig);
    expect(filtered.outcomes).toEqual(['busy', 'no_answer', 'bridged']);
    expect(filtered.end).toEqual({ hungUpBy: 'caller', cause: 'NORMAL_CLEARING' });
    // What went on the wire is exactly what the switch emitted of the handled types; the rest was never sent.
    const delivered = rig.peer.events.filter((e) => e.delivered);
    expect(delivered.filter((e) => !HANDLED.has(e.event.type))).toEqual([]);
    expect(filtered.wireEvents).toBe(delivered.length);
    expect(rig.peer.events.some((e) => e.event.type === 'ChannelVarset' && !e.delivered)).toBe(true);
    expect(rig.adapter.stats().unreadFrames).toBe(0);

    // The same call from an Asterisk without the filter: same outcome, every event on the wire.
    const base = await startRig({ peer: { eventFilter: false } });
    extra.push(base);
    const unfiltered = await failoverCall(base);
    await base.peer.close();
    expect(unfiltered.outcomes).toEqual(filtered.outcomes);
    expect(unfiltered.end).toEqual(filtered.end);
    expect(unfiltered.record).toEqual(filtered.record);
    expect(filtered.wireEvents).toBeLessThan(unfiltered.wireEvents / 2);
    expect(filtered.wireBytes).toBeLessThan(unfiltered.wireBytes / 2);
  });

  it('sets it again after the events socket comes back (the switch forgot it with the app)', async () => {
    rig = await startRig();
    await waitFor(() => rig.adapter.stats().eventFilter === 'set', 2000, 'the filter to be set');
    rig.peer.dropEventSockets();
    await waitFor(() => rig.peer.eventConnections === 1 && filterPuts(rig).length === 2 && rig.adapter.stats().eventFilter === 'set', 3000, 'the filter to be set again');
    expect(filterPuts(rig)).toEqual([200, 200]);
    expect(await appFilter(rig)).toEqual(filterSet);
    const from = rig.peer.events.length;
    const call = await failoverCall(rig);
    expect(call.outcomes).toEqual(['busy', 'no_answer', 'bridged']);
    expect(rig.peer.events.slice(from).filter((e) => e.delivered && !HANDLED.has(e.event.type))).toEqual([]);
  });

  it('a new node sets it for itself, adopts the call the old one left bridged and sees its end', async () => {
    rig = await startRig({ adapter: { timeouts: { stopDrainMs: 100 } } });
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5 });
    const placed = rig.peer.placeCall(CALLER);
    const { leg, info } = await rig.calls.next();
    expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani, tags: { callx_call_id: 'c-adopt' } })).status).toBe('bridged');
    await rig.adapter.stop();
    await waitFor(() => rig.peer.eventConnections === 0, 2000, 'the old node to let go of the app');

    const next = await attachAdapter(rig.peer);
    extra.push(next);
    await waitFor(() => next.adapter.stats().eventFilter === 'set', 2000, 'the new node to set the filter');
    expect(filterPuts(rig)).toEqual([200, 200]);
    expect(await appFilter(rig)).toEqual(filterSet);
    const calls = await next.adapter.callsInProgress();
    expect(calls).toEqual([expect.objectContaining({ callId: 'c-adopt', switchCallId: placed.channelId, bridged: true })]);
    const adopted = await next.adapter.adopt(calls[0] as CallInProgress);
    const end = watchEnd(adopted!);
    const from = rig.peer.events.length;
    placed.hangup();
    expect(await end.ended).toEqual(expect.objectContaining({ hungUpBy: 'caller' }));
    await waitFor(() => rig.peer.channels().length === 0 && next.adapter.stats().idleBridges === 1, 2000, 'buyer hung up and the emptied bridge pooled');
    expect(rig.peer.bridges()).toEqual([expect.objectContaining({ channels: [] })]);
    const sent = rig.peer.events.slice(from);
    expect(sent.filter((e) => e.delivered && !HANDLED.has(e.event.type))).toEqual([]);
    expect(sent.filter((e) => !e.delivered).map((e) => e.event.type)).toContain('ChannelVarset');
  });

  it('an Asterisk without eventFilter (older than 16.3): one warning, calls go as before, unread events dropped unparsed', async () => {
    const log = captureLogger('info');
    rig = await startRig({ peer: { eventFilter: false }, logger: log.logger });
    await waitFor(() => rig.adapter.stats().eventFilter === 'unsupported', 2000, 'the filter to be found unsupported');
    const call = await failoverCall(rig);
    expect(call.outcomes).toEqual(['busy', 'no_answer', 'bridged']);
    expect(call.end).toEqual({ hungUpBy: 'caller', cause: 'NORMAL_CLEARING' });
    expect(rig.adapter.stats().unreadFrames).toBeGreaterThan(0);
    // A reconnect tries again, quietly.
    rig.peer.dropEventSockets();
    await waitFor(() => filterPuts(rig).length === 2 && rig.adapter.stats().eventFilter === 'unsupported', 3000, 'a second try after the reconnect');
    expect(filterPuts(rig)).toEqual([404, 404]);
    const warnings = log.lines.filter((l) => l.level === WARN && /event filter/i.test(String(l.msg)));
    expect(warnings).toEqual([expect.objectContaining({ app: APP, url: rig.peer.url, status: 404, err: expect.stringContaining('Resource not found') })]);
    expect(log.lines.filter((l) => l.level >= ERROR)).toEqual([]);
  });

  it.each([
    ['an Asterisk with eventFilter', true, 'set'],
    ['an older one', false, 'unsupported'],
  ])('through ari-client (ARI_REST_CLIENT=ari-client) too: %s', async (_name, eventFilter, state) => {
    rig = await startRig({ peer: { eventFilter }, adapter: { restClient: 'ari-client' } });
    await waitFor(() => rig.adapter.stats().eventFilter === state, 3000, `the filter state ${state}`);
    if (eventFilter) expect(await appFilter(rig)).toEqual(filterSet);
    const call = await failoverCall(rig);
    expect(call.outcomes).toEqual(['busy', 'no_answer', 'bridged']);
    expect(rig.peer.events.filter((e) => e.delivered && !HANDLED.has(e.event.type)).length > 0).toBe(!eventFilter);
  });

  it('a filter request that fails is retried with backoff, and calls go on meanwhile', async () => {
    const log = captureLogger('info');
    let failing = true;
    const flaky: RestFactory = async (cfg, t, l) => {
      const rest = await httpRestFactory(cfg, t, l);
      const set = rest.setEventFilter.bind(rest);
      rest.setEventFilter = async (app, allowed) => {
        if (failing) throw new AriError('other', `PUT /applications/${app}/eventFilter`, 'Internal Server Error', 500);
        return set(app, allowed);
      };
      return rest;
    };
    rig = await startRig({ logger: log.logger, restFactory: flaky, adapter: { timeouts: { reconnectInitialMs: 150, reconnectMaxMs: 300 } } });
    expect(rig.adapter.stats().eventFilter).toBe('pending');
    // A call while the filter is not set yet: handled as usual, unfiltered.
    rig.peer.buyers.set('buyer-a', { kind: 'answer', afterMs: 5, hangupAfterMs: 100 });
    rig.peer.placeCall(CALLER);
    const { leg, info } = await rig.calls.next();
    const end = watchEnd(leg);
    expect((await leg.bridge({ uri: 'buyer-a' }, { answerTimeoutSec: 5, callerIdNumber: info.ani })).status).toBe('bridged');
    expect(rig.adapter.stats().eventFilter).toBe('pending');
    expect((await end.ended).hungUpBy).toBe('buyer');
    failing = false;
    await waitFor(() => rig.adapter.stats().eventFilter === 'set', 3000, 'the filter to be set after the failures');
    expect(filterPuts(rig)).toEqual([200]);
    expect(await appFilter(rig)).toEqual(filterSet);
    const retries = log.lines.filter((l) => /setting the ARI event filter failed/.test(String(l.msg)));
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries.every((l) => l.status === 500 && typeof l.retryInMs === 'number')).toBe(true);
    await expectNothingDangles(rig);
  });
});
