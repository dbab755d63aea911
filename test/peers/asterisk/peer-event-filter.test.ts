/**
 * The Asterisk peer's `PUT /applications/{app}/eventFilter`, against its api-docs text (applications.json):
 * allowed/disallowed lists of `{type}`, an empty body clears both, one list given leaves the other, an empty allowed
 * list allows everything, disallowed wins, 400 for a bad filter, 404 for an unknown application; the Application
 * model shows the lists; and the filter decides what goes on the app's WebSocket. Also the peer playing an
 * Asterisk older than 16.3, which has no such route.
 */
import { AsteriskPeer, type EventJson } from './index';
import { RawAri, channelIdOf, type EventSocket } from './raw-ari';

const CREDS = { username: 'ari', password: 'ari' };
const APP = 'testapp';
const FILTER_PATH = `/ari/applications/${APP}/eventFilter`;
const types = (...names: string[]): Array<{ type: string }> => names.map((type) => ({ type }));
const isType = (type: string, id?: string) => (e: EventJson) => e.type === type && (id === undefined || channelIdOf(e) === id);

describe('Asterisk peer: application event filter', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;
  let ws: EventSocket;

  async function start(opts: { eventFilter?: boolean } = {}): Promise<void> {
    peer = new AsteriskPeer({ app: APP, username: 'ari', password: 'ari', endpoints: ['carrier', 'buyer'], timeScale: 0.05, ...opts });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events(APP);
  }

  afterEach(async () => {
    ws.close();
    await peer.close();
  });

  const put = (body?: unknown) => ari.request('PUT', FILTER_PATH, body === undefined ? {} : { body });
  const lists = async (): Promise<unknown> => {
    const res = await ari.request('GET', `/ari/applications/${APP}`);
    const app = res.json as { events_allowed: unknown; events_disallowed: unknown };
    return { allowed: app.events_allowed, disallowed: app.events_disallowed };
  };

  /** A caller answered, then hung up by the far end: ChannelVarset, ChannelStateChange, HangupRequest, StasisEnd... */
  async function answeredCallThatEnds(): Promise<string> {
    const call = peer.placeCall({ ani: 'sipp', dnis: '1234' });
    await waitUntil(() => peer.channel(call.channelId)?.inStasis === true);
    expect((await ari.request('POST', `/ari/channels/${call.channelId}/answer`)).status).toBe(204);
    peer.hangupFarEnd(call.channelId);
    await call.finished;
    return call.channelId;
  }

  it('sets the lists, answers the Application with them, and GET shows them', async () => {
    await start();
    expect(await lists()).toEqual({ allowed: [], disallowed: [] });
    const res = await put({ allowed: types('StasisStart', 'StasisEnd'), disallowed: types('ChannelVarset') });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      name: APP,
      channel_ids: [],
      bridge_ids: [],
      endpoint_ids: [],
      device_names: [],
      events_allowed: types('StasisStart', 'StasisEnd'),
      events_disallowed: types('ChannelVarset'),
    });
    expect(await lists()).toEqual({ allowed: types('StasisStart', 'StasisEnd'), disallowed: types('ChannelVarset') });
  });

  it('an allowed list stops every other event type on the app socket', async () => {
    await start();
    expect((await put({ allowed: types('StasisStart', 'StasisEnd') })).status).toBe(200);
    const callerId = await answeredCallThatEnds();
    await ws.waitFor(isType('StasisEnd', callerId));
    expect(ws.events.map((e) => e.type)).toEqual(['StasisStart', 'StasisEnd']);
    // The switch did emit the rest; it just never went on the socket.
    const emitted = peer.events.filter((e) => channelIdOf(e.event) === callerId);
    expect(emitted.map((e) => e.event.type)).toEqual(expect.arrayContaining(['ChannelStateChange', 'ChannelVarset', 'ChannelHangupRequest']));
    expect(emitted.filter((e) => e.delivered).map((e) => e.event.type)).toEqual(['StasisStart', 'StasisEnd']);
    expect(peer.wire.events).toBe(2);
  });

  it('disallowed wins over allowed; a disallowed list alone lets everything else through', async () => {
    await start();
    expect((await put({ allowed: types('StasisStart', 'StasisEnd'), disallowed: types('StasisEnd') })).status).toBe(200);
    const first = await answeredCallThatEnds();
    await ws.waitFor(isType('StasisStart', first));
    expect(ws.events.map((e) => e.type)).toEqual(['StasisStart']);

    expect((await put({ allowed: [] })).status).toBe(200); // an empty allowed list: all allowed, but StasisEnd still disallowed
    expect(await lists()).toEqual({ allowed: [], disallowed: types('StasisEnd') });
    const from = ws.events.length;
    const second = await answeredCallThatEnds();
    await ws.waitFor(isType('ChannelHangupRequest', second), 3000, from);
    const got = ws.events.slice(from).map((e) => e.type);
    expect(got).toEqual(expect.arrayContaining(['StasisStart', 'ChannelStateChange', 'ChannelHangupRequest']));
    expect(got).not.toContain('StasisEnd');
  });

  it('one list given leaves the other; an empty body clears both; `{}` clears both too', async () => {
    await start();
    await put({ allowed: types('StasisStart'), disallowed: types('Dial') });
    expect((await put({ allowed: types('StasisEnd') })).status).toBe(200);
    expect(await lists()).toEqual({ allowed: types('StasisEnd'), disallowed: types('Dial') });
    expect((await put({ disallowed: [] })).status).toBe(200);
    expect(await lists()).toEqual({ allowed: types('StasisEnd'), disallowed: [] });
    expect((await put({ something: 'else' })).status).toBe(200); // names neither list: nothing changes
    expect(await lists()).toEqual({ allowed: types('StasisEnd'), disallowed: [] });

    await put({ allowed: types('StasisStart'), disallowed: types('Dial') });
    const cleared = await put();
    expect(cleared.status).toBe(200);
    expect(cleared.json).toEqual(expect.objectContaining({ events_allowed: [], events_disallowed: [] }));
    await put({ allowed: types('StasisStart'), disallowed: types('Dial') });
    expect((await put({})).status).toBe(200);
    expect(await lists()).toEqual({ allowed: [], disallowed: [] });
    // Cleared: everything goes to the app again, the chatter included.
    const callerId = await answeredCallThatEnds();
    await ws.waitFor(isType('StasisEnd', callerId));
    expect(ws.events.map((e) => e.type)).toEqual(expect.arrayContaining(['StasisStart', 'ChannelStateChange', 'ChannelVarset', 'StasisEnd']));
  });

  it('answers 400 for a bad filter and keeps the lists it had (but a valid disallowed list before a bad allowed one)', async () => {
    await start();
    await put({ allowed: types('StasisStart'), disallowed: types('Dial') });
    for (const bad of [{ allowed: 'StasisStart' }, { allowed: [{ name: 'StasisStart' }] }, { allowed: [{ type: '' }] }, { allowed: ['StasisStart'] }, { disallowed: [{ type: 7 }] }, 'StasisStart', 42, null]) {
      const res = await put(bad);
      expect({ bad, status: res.status, body: res.json }).toEqual({ bad, status: 400, body: { message: 'Invalid format definition' } });
    }
    expect(await lists()).toEqual({ allowed: types('StasisStart'), disallowed: types('Dial') });
    // Asterisk sets `disallowed` before it checks `allowed`.
    expect((await put({ disallowed: types('StasisEnd'), allowed: 'no' })).status).toBe(400);
    expect(await lists()).toEqual({ allowed: types('StasisStart'), disallowed: types('StasisEnd') });
    // A body that is not JSON at all.
    const raw = await fetch(`${peer.url}${FILTER_PATH}`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('ari:ari').toString('base64')}`, 'content-type': 'application/json' },
      body: '{"allowed": [',
    });
    expect(raw.status).toBe(400);
  });

  it('answers 404 for an application that is not registered, and 405 for another method', async () => {
    await start();
    const res = await ari.request('PUT', '/ari/applications/nosuchapp/eventFilter', { body: { allowed: types('StasisStart') } });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ message: 'Application not found' });
    expect((await ari.request('GET', FILTER_PATH)).status).toBe(405);
  });

  it('the filter goes with the app: its socket closing drops it, a new socket starts unfiltered', async () => {
    await start();
    await put({ allowed: types('StasisStart') });
    ws.close();
    await waitUntil(() => peer.eventConnections === 0);
    ws = await ari.events(APP);
    expect(await lists()).toEqual({ allowed: [], disallowed: [] });
  });

  it('ApplicationReplaced goes through the filter of the app it is about', async () => {
    await start();
    await put({ allowed: types('StasisStart') });
    const second = await ari.events(APP);
    try {
      await sleep(50);
      expect(ws.events).toEqual([]);
      // The replacing socket inherits the app, filter and all.
      expect(await lists()).toEqual({ allowed: types('StasisStart'), disallowed: [] });
      await put({ allowed: types('ApplicationReplaced') });
      const third = await ari.events(APP);
      await second.waitFor(isType('ApplicationReplaced'));
      third.close();
    } finally {
      second.close();
    }
  });

  it('plays an Asterisk older than 16.3: no eventFilter route (404 as any unknown path), no filter in the model or api-docs', async () => {
    await start({ eventFilter: false });
    const res = await put({ allowed: types('StasisStart') });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ message: 'Resource not found' });
    const app = (await ari.request('GET', `/ari/applications/${APP}`)).json as Record<string, unknown>;
    expect(Object.keys(app)).toEqual(['name', 'channel_ids', 'bridge_ids', 'endpoint_ids', 'device_names']);
    const docs = (await ari.request('GET', '/ari/api-docs/applications.json')).text;
    expect(docs).not.toContain('eventFilter');
    expect(docs).not.toContain('events_allowed');
    const callerId = await answeredCallThatEnds();
    await ws.waitFor(isType('StasisEnd', callerId));
    expect(ws.events.map((e) => e.type)).toEqual(expect.arrayContaining(['ChannelVarset', 'ChannelStateChange']));
  });

  it('load runs: a filtered event is neither built nor counted on the wire', async () => {
    peer = new AsteriskPeer({ app: APP, username: 'ari', password: 'ari', endpoints: ['carrier', 'buyer'], timeScale: 0.05, record: false });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events(APP);
    await put({ allowed: types('StasisStart', 'StasisEnd') });
    await answeredCallThatEnds();
    await waitUntil(() => ws.events.length === 2);
    expect(peer.wire.events).toBe(2);
    expect(peer.wire.eventBytes).toBe(ws.frames.reduce((n, f) => n + f.length, 0));
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}
