/**
 * AriHttpRest against the Asterisk peer over real HTTP: each operation as the peer receives it (paths and
 * URL-encoded query strings as recorded from Asterisk 22), results reduced to the plain shapes, each error kind,
 * the connect check, a request deadline against a server that never answers, and the connections (kept alive,
 * capped, closed when idle, a reused one closed under a request retried once, close()).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { silentLogger } from '../../../app/observability/logger';
import { AriClientRest } from '../../../app/switch/asterisk/ari-client-rest';
import { AriHttpPool, HttpTimeoutError } from '../../../app/switch/asterisk/ari-http-pool';
import { AriHttpRest, queryString } from '../../../app/switch/asterisk/ari-http-rest';
import { AriError, isAriError, type AriRest } from '../../../app/switch/asterisk/ari-rest';
import { AsteriskPeer } from '../../peers/asterisk';
import { RawAri, type EventSocket } from '../../peers/asterisk/raw-ari';
import { waitFor } from './helpers';

const CREDS = { username: 'callx', password: 'secret' };
const BUYER = '+15551230001';

async function rejection(p: Promise<unknown>): Promise<AriError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AriError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** A bare HTTP server for what the peer cannot do: never answer, count connections, reset a reused one. */
async function bareServer(handler: http.RequestListener): Promise<{ url: string; server: http.Server; sockets: Socket[]; close(): Promise<void> }> {
  const server = http.createServer(handler);
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('AriHttpRest against the Asterisk peer', () => {
  let peer: AsteriskPeer;
  let rest: AriHttpRest;
  let events: EventSocket;

  beforeEach(async () => {
    peer = new AsteriskPeer({ app: 'callx', channelvars: ['CALLX_LEAD_ID'], endpoints: ['carrier', 'buyers'], timeScale: 0.2 });
    await peer.listen();
    events = await new RawAri(peer.url, CREDS).events('callx');
    rest = await AriHttpRest.connect({ url: peer.url, ...CREDS, restMs: 2000, connectMs: 2000 });
  });

  afterEach(async () => {
    rest.close();
    events.close();
    await peer.close();
  });

  /** A carrier call in Stasis (its StasisStart seen), and its channel id. */
  async function callerInStasis(): Promise<string> {
    const call = peer.placeCall({ ani: '+18135550100', dnis: '+18885550400' });
    await events.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === call.channel.id);
    return call.channel.id;
  }

  const sent = (from: number) => peer.requests.slice(from).map((r) => `${r.method} ${r.path} ${r.status}`);

  it('connects with GET /ari/asterisk/info', () => {
    expect(sent(0)).toEqual(['GET /ari/asterisk/info 200']);
  });

  it('sends each operation as Asterisk was recorded receiving it, and returns plain channels and bridges', async () => {
    peer.buyers.set(BUYER, { kind: 'answer', afterMs: 5 });
    const caller = await callerInStasis();
    const from = peer.requests.length;

    const channels = await rest.listChannels();
    expect(channels.map((c) => c.id)).toEqual([caller]);
    expect(Object.keys(channels[0]!).sort()).toEqual(['caller', 'channelvars', 'creationtime', 'dialplan', 'id', 'name', 'state']);
    const got = await rest.getChannel(caller);
    expect(got).toEqual(channels[0]);
    expect(got.caller.number).toBe('+18135550100');

    await rest.answer(caller);
    const buyer = await rest.originate({
      endpoint: `PJSIP/${BUYER}@buyers`,
      app: 'callx',
      appArgs: `buyer,${caller}`,
      callerId: '"sipp" <sipp>',
      timeoutSec: 30,
      channelId: 'callx-b-1',
      variables: { CALLX_LEAD_ID: 'lead 7/ü' },
    });
    expect(buyer).toMatchObject({ id: 'callx-b-1', state: 'Down', caller: { name: 'sipp', number: 'sipp' } });
    expect(Object.keys(buyer)).not.toContain('protocol_id');
    expect(peer.channel('callx-b-1')?.vars.get('CALLX_LEAD_ID')).toBe('lead 7/ü');
    await events.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === 'callx-b-1');

    const bridge = await rest.createBridge('callx-br-1', 'callx');
    expect(bridge).toEqual({ id: 'callx-br-1', name: 'callx', bridge_type: 'mixing', channels: [], creationtime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    await rest.addChannels('callx-br-1', [caller, 'callx-b-1']);
    expect((await rest.listBridges()).map((b) => [b.id, [...b.channels].sort()])).toEqual([['callx-br-1', [caller, 'callx-b-1'].sort()]]);
    await rest.play(caller, 'sound:tt-allbusy', 'callx-pb-1');
    await rest.hangup('callx-b-1', 'NORMAL_CLEARING');
    await rest.hangup(caller, 'ORIGINATOR_CANCEL'); // no Q.850 number: the closest reason word
    await rest.destroyBridge('callx-br-1');

    expect(sent(from)).toEqual([
      'GET /ari/channels 200',
      `GET /ari/channels/${caller} 200`,
      `POST /ari/channels/${caller}/answer 204`,
      `POST /ari/channels?endpoint=PJSIP%2F%2B15551230001%40buyers&app=callx&appArgs=buyer%2C${caller}&callerId=%22sipp%22%20%3Csipp%3E&timeout=30&channelId=callx-b-1 200`,
      'POST /ari/bridges?type=mixing&bridgeId=callx-br-1&name=callx 200',
      `POST /ari/bridges/callx-br-1/addChannel?channel=${caller}%2Ccallx-b-1 204`,
      'GET /ari/bridges 200',
      `POST /ari/channels/${caller}/play?media=sound%3Att-allbusy&playbackId=callx-pb-1 201`,
      'DELETE /ari/channels/callx-b-1?reason_code=16 204',
      `DELETE /ari/channels/${caller}?reason=normal 204`,
      'DELETE /ari/bridges/callx-br-1 204',
    ]);
  });

  it('sends no body when there are no variables', async () => {
    const from = peer.requests.length;
    await rest.originate({ endpoint: 'Local/wait@holding', app: 'callx', appArgs: '', timeoutSec: 3, channelId: 'callx-l-1', variables: {} });
    expect(sent(from)).toEqual(['POST /ari/channels?endpoint=Local%2Fwait%40holding&app=callx&appArgs=&timeout=3&channelId=callx-l-1 200']);
  });

  it('maps each error to its kind, with the message from the body', async () => {
    const e404 = await rejection(rest.getChannel('nope'));
    expect(e404).toMatchObject({ kind: 'not_found', operation: 'GET /channels/nope', message: 'GET /channels/nope: Channel not found' });
    expect((await rejection(rest.answer('nope'))).kind).toBe('not_found');
    expect((await rejection(rest.hangup('nope', 'NORMAL_CLEARING'))).kind).toBe('not_found');
    expect((await rejection(rest.destroyBridge('nope'))).kind).toBe('not_found');

    // 500 {"error": "Allocation failed"}
    const alloc = await rejection(rest.originate({ endpoint: 'PJSIP/nosuchendpoint', app: 'callx', appArgs: 'buyer', timeoutSec: 30, channelId: 'callx-x-1' }));
    expect(alloc).toMatchObject({ kind: 'allocation_failed', message: 'POST /channels (PJSIP/nosuchendpoint): Allocation failed' });

    // A Local channel runs dialplan, not Stasis: 409 from answer, 422 from addChannel
    await rest.originate({ endpoint: 'Local/wait@holding', app: 'callx', appArgs: '', timeoutSec: 30, channelId: 'callx-l-1' });
    expect(await rejection(rest.answer('callx-l-1'))).toMatchObject({ kind: 'not_in_stasis', message: 'POST /channels/callx-l-1/answer: Channel not in Stasis application' });
    await rest.createBridge('callx-br-1', 'callx');
    expect((await rejection(rest.addChannels('callx-br-1', ['callx-l-1']))).kind).toBe('not_in_stasis');
    // 400 "Channel not found" from addChannel: gone
    expect((await rejection(rest.addChannels('callx-br-1', ['nope']))).kind).toBe('not_found');

    // 409 already exists
    expect(await rejection(rest.createBridge('callx-br-1', 'callx'))).toMatchObject({ kind: 'conflict', message: "POST /bridges: Bridge with id 'callx-br-1' already exists" });
    expect((await rejection(rest.originate({ endpoint: 'Local/wait@holding', app: 'callx', appArgs: '', timeoutSec: 30, channelId: 'callx-l-1' }))).kind).toBe('conflict');

    // anything else: other (here 401 from a client whose password changed)
    const wrong = new AriHttpRest({ url: peer.url, username: 'callx', password: 'wrong', restMs: 1000 });
    expect(await rejection(wrong.listChannels())).toMatchObject({ kind: 'other', message: 'GET /channels: Authentication required' });
    wrong.close();
  });

  it('a refused connection is an AriError other, at once', async () => {
    const server = await bareServer(() => undefined);
    const url = server.url;
    await server.close();
    const gone = new AriHttpRest({ url, ...CREDS, restMs: 5000 });
    const started = Date.now();
    expect(await rejection(gone.listChannels())).toMatchObject({ kind: 'other', message: expect.stringContaining('ECONNREFUSED') });
    expect(Date.now() - started).toBeLessThan(1000);
    gone.close();
  });

  it('connect says what is wrong: refused credentials, nothing listening, not a URL', async () => {
    await expect(AriHttpRest.connect({ url: peer.url, username: 'callx', password: 'wrong', restMs: 1000, connectMs: 1000 })).rejects.toThrow(
      `ARI at ${peer.url} refused user 'callx' (401 Authentication required): check the ARI username and password (ari.conf)`,
    );
    const server = await bareServer(() => undefined);
    await server.close();
    await expect(AriHttpRest.connect({ url: server.url, ...CREDS, restMs: 1000, connectMs: 1000 })).rejects.toThrow(/is unreachable: .*ECONNREFUSED/);
    await expect(AriHttpRest.connect({ url: 'not a url', ...CREDS, restMs: 1000, connectMs: 1000 })).rejects.toThrow("ARI URL 'not a url' is not a URL");
    await expect(AriHttpRest.connect({ url: 'ws://127.0.0.1:8088', ...CREDS, restMs: 1000, connectMs: 1000 })).rejects.toThrow('must be http:// or https://');
  });

  it('connect refuses a server that is not ARI', async () => {
    const server = await bareServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html>no</html>');
    });
    try {
      await expect(AriHttpRest.connect({ url: server.url, ...CREDS, restMs: 1000, connectMs: 1000 })).rejects.toThrow(/answered GET \/ari\/asterisk\/info with 404/);
    } finally {
      await server.close();
    }
  });
});

describe('AriHttpRest and ari-client send the same requests', () => {
  /** One scripted session of every operation (errors included) against a fresh peer; what the peer received. */
  async function session(connect: (url: string) => Promise<AriRest>): Promise<{ sent: string[]; results: unknown[] }> {
    const peer = new AsteriskPeer({ app: 'callx', endpoints: ['carrier', 'buyers'], timeScale: 0.2 });
    await peer.listen();
    const events = await new RawAri(peer.url, CREDS).events('callx');
    const rest = await connect(peer.url);
    try {
      peer.buyers.set(BUYER, { kind: 'answer', afterMs: 5 });
      const call = peer.placeCall({ ani: '+18135550100', dnis: '+18885550400' });
      const caller = call.channel.id;
      await events.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === caller);
      const from = peer.requests.length;
      const results: unknown[] = [];
      const run = async (p: Promise<unknown>) => results.push(await p.then((v) => v, (e: AriError) => `${e.kind}: ${e.message}`));
      await run(rest.answer(caller));
      await run(rest.originate({ endpoint: `PJSIP/${BUYER}@buyers`, app: 'callx', appArgs: `buyer,${caller}`, callerId: '"Ann" <+18135550100>', timeoutSec: 30, channelId: 'b-1', variables: { CALLX_LEAD_ID: 'a b&c' } }));
      await events.waitFor((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === 'b-1');
      results.push({ variable: peer.channel('b-1')?.vars.get('CALLX_LEAD_ID') }); // from the JSON body
      await run(rest.createBridge('br-1', 'callx'));
      await run(rest.addChannels('br-1', [caller, 'b-1']));
      await run(rest.play(caller, 'sound:tt-allbusy', 'pb-1'));
      await run(rest.setVariable(caller, 'CALLX_CALL_ID', 'c-1/ü'));
      await run(rest.getVariable(caller, 'CALLX_CALL_ID'));
      await run(rest.getVariable(caller, 'CALLX_NOSUCH')); // not set: undefined, not an error
      await run(rest.ring(caller));
      await run(rest.progress(caller));
      await run(rest.continueInDialplan('gone'));
      await run(rest.getVariable('gone', 'CALLX_CALL_ID')); // the channel is gone: an error
      await run(rest.originate({ endpoint: 'PJSIP/nosuch', app: 'callx', appArgs: 'buyer', timeoutSec: 30, channelId: 'b-2' }));
      await run(rest.createBridge('br-1', 'callx'));
      await run(rest.hangup('b-1', 'USER_BUSY'));
      await run(rest.hangup(caller, 'ORIGINATOR_CANCEL'));
      await run(rest.destroyBridge('br-1'));
      await run(rest.getChannel('gone'));
      const normalized = results.map((r) => (r && typeof r === 'object' && 'creationtime' in r ? { ...r, creationtime: 'T' } : r));
      // The caller's id is the peer's own (time-based): named the same in both sessions.
      return { sent: sent(peer, from).map((line) => line.split(caller).join('CALLER')), results: normalized };
    } finally {
      rest.close?.();
      events.close();
      await peer.close();
    }
  }
  const sent = (peer: AsteriskPeer, from: number) => peer.requests.slice(from).map((r) => `${r.method} ${r.path} ${r.status}`);

  it('for every operation, with the same results and error kinds', async () => {
    const ours = await session((url) => AriHttpRest.connect({ url, ...CREDS, restMs: 2000, connectMs: 2000 }));
    const lib = await session((url) => AriClientRest.connect({ url, ...CREDS }, 2000, 5000, silentLogger()));
    expect(ours.sent).toEqual(lib.sent);
    expect(ours.results).toEqual(lib.results);
    expect(ours.sent[1]).toBe(
      'POST /ari/channels?endpoint=PJSIP%2F%2B15551230001%40buyers&app=callx&appArgs=buyer%2CCALLER&callerId=%22Ann%22%20%3C%2B18135550100%3E&timeout=30&channelId=b-1 200',
    );
    expect(ours.results).toContainEqual({ variable: 'a b&c' });
    expect(ours.results).toContain('c-1/ü');
    expect(ours.results.filter((r) => typeof r === 'string' && r !== 'c-1/ü')).toEqual([
      'not_found: POST /channels/gone/continue: Channel not found',
      'not_found: GET /channels/gone/variable: Channel not found',
      'allocation_failed: POST /channels (PJSIP/nosuch): Allocation failed',
      "conflict: POST /bridges: Bridge with id 'br-1' already exists",
      'not_found: GET /channels/gone: Channel not found',
    ]);
  }, 20_000);
});

describe('AriHttpRest: deadlines and connections', () => {
  it('a request the server never answers settles as AriError timeout, and the request is destroyed', async () => {
    const closed: string[] = [];
    const server = await bareServer((req) => req.socket.on('close', () => closed.push(req.url ?? '')));
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 150 });
    try {
      const started = Date.now();
      const err = await rejection(rest.answer('c-1'));
      expect(err).toMatchObject({ kind: 'timeout', operation: 'POST /channels/c-1/answer', message: 'POST /channels/c-1/answer: timed out after 150 ms' });
      expect(isAriError(err, 'timeout')).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(Date.now() - started).toBeLessThan(1000);
      await waitFor(() => closed.length === 1, 1000, 'the server to see the request go away');
      expect(closed).toEqual(['/ari/channels/c-1/answer']);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('connect gives up after connectMs against a server that never answers', async () => {
    const server = await bareServer(() => undefined);
    try {
      await expect(AriHttpRest.connect({ url: server.url, ...CREDS, restMs: 5000, connectMs: 150 })).rejects.toThrow(/is unreachable: GET \/asterisk\/info: timed out after 150 ms/);
    } finally {
      await server.close();
    }
  });

  it('keeps connections alive: sequential requests share one, concurrent ones are reused afterwards', async () => {
    const seen: string[] = [];
    const server = await bareServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${req.headers.connection}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 1000 });
    try {
      for (let i = 0; i < 20; i++) await rest.listChannels();
      expect(server.sockets).toHaveLength(1);
      await Promise.all(Array.from({ length: 5 }, () => rest.listBridges()));
      const afterBurst = server.sockets.length;
      expect(afterBurst).toBeLessThanOrEqual(5);
      for (let i = 0; i < 10; i++) await Promise.all([rest.listChannels(), rest.listBridges()]);
      expect(server.sockets.length).toBe(afterBurst);
      expect(seen[0]).toBe(`GET /ari/channels Basic ${Buffer.from('callx:secret').toString('base64')} keep-alive`);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('a kept-alive connection the switch closed under a request is retried once on a fresh one', async () => {
    let n = 0;
    const server = await bareServer((req, res) => {
      n++;
      if (n === 2) {
        req.socket.destroy(); // as if the idle connection timed out on the switch just as the request arrived
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 1000 });
    try {
      await rest.listChannels();
      await expect(rest.listBridges()).resolves.toEqual([]);
      expect(n).toBe(3);
      expect(server.sockets).toHaveLength(2);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('a connection closed under its first request is not retried: the request fails', async () => {
    let n = 0;
    const server = await bareServer((req) => {
      n++;
      req.socket.destroy();
    });
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 1000 });
    try {
      expect(await rejection(rest.listChannels())).toMatchObject({ kind: 'other', operation: 'GET /channels' });
      expect(n).toBe(1);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('opens at most maxSockets connections; further requests wait and go out in order as connections free up', async () => {
    const held: Array<{ url: string; res: http.ServerResponse }> = [];
    const server = await bareServer((req, res) => held.push({ url: req.url ?? '', res }));
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 5000, maxSockets: 2 });
    try {
      const ids = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5'];
      const all = ids.map((id) => rest.getChannel(id));
      await waitFor(() => held.length === 2, 1000, 'two requests at the server');
      const order: string[] = [];
      while (order.length < ids.length) {
        await waitFor(() => held.length > 0, 1000, 'the next request');
        const { url, res } = held.shift()!;
        order.push(url);
        expect(server.sockets).toHaveLength(2);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: url.split('/').pop(), name: 'PJSIP/x', state: 'Up', caller: { name: '', number: '' }, dialplan: {}, channelvars: {}, creationtime: 'T' }));
      }
      expect((await Promise.all(all)).map((c) => c.id)).toEqual(ids);
      expect(order).toEqual(ids.map((id) => `/ari/channels/${id}`));
      expect(server.sockets).toHaveLength(2);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('closes a connection idle for idleMs', async () => {
    const server = await bareServer((_req, res) => res.end('[]'));
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 1000, idleMs: 100 });
    try {
      await rest.listChannels();
      const started = Date.now();
      await new Promise<void>((r) => server.sockets[0]!.once('close', () => r()));
      expect(Date.now() - started).toBeLessThan(2000); // the client's idle close, not the server's (5 s)
      expect(await rest.listChannels()).toEqual([]);
      expect(server.sockets).toHaveLength(2);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('a request waiting for a connection past its deadline times out without being sent', async () => {
    const seen: string[] = [];
    const server = await bareServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/fast') res.end('ok');
    });
    const http = new AriHttpPool({ origin: server.url, headers: [], maxSockets: 1, idleMs: 10_000 });
    try {
      const slow = http.request('GET', '/slow', undefined, 150);
      const waiting = http.request('GET', '/waiting', undefined, 100);
      await expect(waiting).rejects.toThrow(new HttpTimeoutError(100));
      await expect(slow).rejects.toThrow('timed out after 150 ms');
      expect(await http.request('GET', '/fast', undefined, 1000)).toEqual({ status: 200, text: 'ok' });
      expect(seen).toEqual(['/slow', '/fast']);
    } finally {
      http.close();
      await server.close();
    }
  });

  it('close() fails the requests in flight and closes every connection; later requests open new ones', async () => {
    let answer = false;
    const server = await bareServer((_req, res) => {
      if (answer) res.end('[]');
    });
    const rest = new AriHttpRest({ url: server.url, ...CREDS, restMs: 5000 });
    try {
      const inFlight = rejection(rest.listChannels());
      await waitFor(() => server.sockets.length === 1, 1000, 'the request at the server');
      rest.close();
      expect(await inFlight).toMatchObject({ kind: 'other', operation: 'GET /channels' });
      await waitFor(() => server.sockets.every((s) => s.destroyed), 1000, 'the connection closed');
      answer = true;
      expect(await rest.listChannels()).toEqual([]);
      expect(server.sockets).toHaveLength(2);
    } finally {
      rest.close();
      await server.close();
    }
  });

  it('builds URL-encoded query strings in order, leaving out undefined values', () => {
    expect(queryString([['endpoint', 'PJSIP/buyer'], ['app', 'testapp'], ['callerId', undefined], ['timeout', 30]])).toBe('?endpoint=PJSIP%2Fbuyer&app=testapp&timeout=30');
    expect(queryString([['callerId', '"sipp" <sipp>']])).toBe('?callerId=%22sipp%22%20%3Csipp%3E');
    expect(queryString([])).toBe('');
  });
});
