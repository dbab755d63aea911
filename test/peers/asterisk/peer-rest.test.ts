/**
 * The Asterisk peer's HTTP side against the recorded Asterisk 22.10.1 session F (REST errors): every request is
 * replayed in order and must get the recorded status, content type and body. Also the api-docs ari-client loads,
 * and the WebSocket upgrade errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { AsteriskPeer } from './index';
import { RawAri } from './raw-ari';

interface SessionEntry {
  method: string;
  path: string;
  requestBody: unknown;
  auth: 'basic' | 'none';
  upgrade: boolean;
  status: number;
  contentType?: string;
  body: unknown;
}

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'asterisk');
const recorded = JSON.parse(readFileSync(join(FIXTURES, 'recorded.json'), 'utf8')) as {
  restSession: SessionEntry[];
  asteriskInfo: unknown;
};
const CREDS = { username: 'ari', password: 'ari' };

/** A WebSocket upgrade attempt, answered with a plain HTTP response (an error) or 101. */
function upgrade(port: number, path: string, auth: boolean): Promise<{ status: number; contentType?: string; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
    };
    if (auth) headers.Authorization = `Basic ${Buffer.from('ari:ari').toString('base64')}`;
    const req = http.request({ host: '127.0.0.1', port, path, headers });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Asterisk peer: REST and api-docs', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;

  beforeEach(async () => {
    peer = new AsteriskPeer({ app: 'testapp', username: 'ari', password: 'ari', endpoints: ['buyer'] });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
  });

  afterEach(async () => {
    await peer.close();
  });

  it('replays the recorded REST error session with the same statuses and bodies', async () => {
    for (const entry of recorded.restSession) {
      const label = `${entry.method} ${entry.path}`;
      if (entry.upgrade) {
        if (entry.status === 101) {
          const events = await ari.events('testapp');
          expect(peer.eventConnections).toBe(1);
          void events;
          continue;
        }
        const res = await upgrade(peer.port, entry.path, entry.auth === 'basic');
        expect({ label, status: res.status, contentType: res.contentType }).toEqual({ label, status: entry.status, contentType: entry.contentType });
        if (typeof entry.body === 'string') expect(res.body).toBe(entry.body);
        else expect(JSON.parse(res.body)).toEqual(entry.body);
        if (entry.status === 401) expect(res.headers['www-authenticate']).toBe('Basic realm="Asterisk REST Interface"');
        continue;
      }
      const res = await ari.request(entry.method, entry.path, { body: entry.requestBody ?? undefined, auth: entry.auth });
      expect({ label, status: res.status }).toEqual({ label, status: entry.status });
      if (entry.status === 204) {
        expect(res.text).toBe('');
        continue;
      }
      expect({ label, contentType: res.headers.get('content-type') }).toEqual({ label, contentType: entry.contentType });
      if (entry.body === '(asteriskInfo)') expect(res.json).toEqual(recorded.asteriskInfo);
      else if (entry.status === 200 && entry.body && typeof entry.body === 'object' && 'creationtime' in entry.body) {
        // Created objects: same keys and fixed fields; ids and times are the peer's own.
        const got = res.json as Record<string, unknown>;
        expect(Object.keys(got)).toEqual(Object.keys(entry.body));
        const { creationtime: _c, protocol_id: _p, name: _n, ...fixed } = entry.body as Record<string, unknown>;
        expect(got).toEqual(expect.objectContaining(fixed));
      } else if (entry.status === 200 && Array.isArray(entry.body)) {
        expect(Array.isArray(res.json)).toBe(true);
      } else expect({ label, body: res.json }).toEqual({ label, body: entry.body });
      if (entry.status === 401) expect(res.headers.get('www-authenticate')).toBe('Basic realm="Asterisk REST Interface"');
    }
  });

  it('serves resources.json and the 11 declarations only with credentials, basePath built from the Host header', async () => {
    const denied = await ari.request('GET', '/ari/api-docs/resources.json', { auth: 'none' });
    expect(denied.status).toBe(401);
    expect(denied.json).toEqual({ message: 'Authentication required' });

    const res = await ari.request('GET', '/ari/api-docs/resources.json');
    expect(res.status).toBe(200);
    const resources = res.json as { basePath: string; apis: Array<{ path: string }> };
    expect(resources.basePath).toBe(`http://127.0.0.1:${peer.port}/ari`);
    expect(resources.apis).toHaveLength(11);
    for (const api of resources.apis) {
      const name = api.path.replace('/api-docs/', '').replace('{format}', 'json');
      const doc = await ari.request('GET', `/ari/api-docs/${name}`, { auth: 'api_key' });
      expect(doc.status).toBe(200);
      const original = readFileSync(join(FIXTURES, 'api-docs', name), 'utf8');
      expect(doc.text).toBe(original.replace('http://127.0.0.1:8088/ari', `http://127.0.0.1:${peer.port}/ari`));
    }
  });

  it('accepts api_key as well as Basic auth and rejects wrong credentials', async () => {
    expect((await ari.request('GET', '/ari/channels', { auth: 'api_key' })).status).toBe(200);
    const wrong = new RawAri(peer.url, { username: 'ari', password: 'wrong' });
    const res = await wrong.request('GET', '/ari/channels');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Asterisk REST Interface"');
  });

  it('reads a request body only when it is application/json, as Asterisk does, and takes only string variables', async () => {
    const auth = `Basic ${Buffer.from('ari:ari').toString('base64')}`;
    const post = async (path: string, body: string, contentType?: string) => {
      const headers: Record<string, string> = { authorization: auth };
      if (contentType) headers['content-type'] = contentType;
      const res = await fetch(`${peer.url}${path}`, { method: 'POST', headers, body });
      const text = await res.text();
      return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
    };
    const vars = JSON.stringify({ variables: { CALLX_A: 'one' } });
    const local = (id: string) => `/ari/channels?endpoint=Local%2Fwait%40holding&app=testapp&channelId=${id}`;

    expect((await post(local('v-1'), vars, 'application/json')).status).toBe(200);
    expect(peer.channel('v-1')?.vars.get('CALLX_A')).toBe('one');
    expect((await post(local('v-2'), vars, 'Application/JSON; charset=utf-8')).status).toBe(200);
    expect(peer.channel('v-2')?.vars.get('CALLX_A')).toBe('one');
    // Any other type (or none): the body is not read at all, not even to fail on it.
    expect((await post(local('v-3'), vars, 'text/plain')).status).toBe(200);
    expect(peer.channel('v-3')?.vars.get('CALLX_A')).toBeUndefined();
    expect((await post(local('v-4'), '{not json', 'text/plain')).status).toBe(200);
    expect(await post('/ari/channels', JSON.stringify({ endpoint: 'PJSIP/buyer', app: 'testapp' }), 'text/plain')).toEqual({ status: 400, json: { message: 'Endpoint must be specified' } });
    expect(await post(local('v-5'), '{not json', 'application/json')).toEqual({ status: 400, json: { message: 'Error parsing request body' } });

    expect(await post(local('v-6'), JSON.stringify({ variables: { CALLX_A: 1 } }), 'application/json')).toEqual({
      status: 400,
      json: { message: "Only string values in the 'variables' object allowed" },
    });
    expect(peer.channel('v-6')).toBeUndefined();
  });

  it('makes the switch unreachable on demand (connections reset) and back', async () => {
    peer.setUnreachable(true, { rest: true });
    await expect(ari.request('GET', '/ari/channels')).rejects.toThrow();
    peer.setUnreachable(false);
    expect((await ari.request('GET', '/ari/channels')).status).toBe(200);
  });
});
