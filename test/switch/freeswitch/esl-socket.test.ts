/**
 * EslSocket on a real TCP pair with a hand-written switch side: replies matched in order, -ERR, timeouts that
 * close the connection, and events that arrive in the same packet as the subscription reply.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { EslSocket } from '../../../app/switch/freeswitch/esl-socket';
import { silentLogger } from '../../../app/observability/logger';

const event = (obj: Record<string, string>): string => {
  const body = JSON.stringify(obj);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
};

describe('EslSocket', () => {
  let server: Server;
  let conn: EslSocket;
  let fs: Socket;
  /** Our end of the connection (the one EslSocket writes to). */
  let ours: Socket;
  let received = '';

  beforeEach(async () => {
    received = '';
    const accepted = new Promise<EslSocket>((resolve) => {
      server = createServer((s) => {
        ours = s;
        resolve(new EslSocket(s, silentLogger()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    fs = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    fs.on('data', (d) => (received += d.toString()));
    conn = await accepted;
  });

  afterEach(async () => {
    fs.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const waitFor = async (text: string): Promise<void> => {
    for (let i = 0; i < 100 && !received.includes(text); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('matches replies in order and rejects -ERR replies', async () => {
    const a = conn.command('linger', {}, 1000);
    const b = conn.command('filter Unique-ID x', {}, 1000);
    const c = conn.api('nosuch', 1000);
    await waitFor('api nosuch');
    expect(received).toBe('linger\n\nfilter Unique-ID x\n\napi nosuch\n\n');
    fs.write('Content-Type: command/reply\nReply-Text: +OK will linger\n\n');
    fs.write('Content-Type: command/reply\nReply-Text: -ERR invalid syntax\n\n');
    fs.write('Content-Type: api/response\nContent-Length: 31\n\n-ERR nosuch Command not found!\n');
    expect((await a).headers.get('Reply-Text')).toBe('+OK will linger');
    await expect(b).rejects.toThrow("'filter Unique-ID x' failed: -ERR invalid syntax");
    expect(await c).toBe('-ERR nosuch Command not found!\n');
  });

  it('keeps events that come in the same packet as the reply until a handler is attached', async () => {
    const sub = conn.command('event json CHANNEL_HANGUP_COMPLETE', {}, 1000);
    await waitFor('event json');
    fs.write('Content-Type: command/reply\nReply-Text: +OK event listener enabled json\n\n' + event({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': 'u1' }));
    await sub;
    const seen: string[] = [];
    conn.onEvent((name, h) => seen.push(`${name}:${h.get('unique-id')}`));
    expect(seen).toEqual(['CHANNEL_HANGUP_COMPLETE:u1']);
  });

  it('a missing reply closes the connection and fails what was pending', async () => {
    const reasons: string[] = [];
    conn.onClose((r) => reasons.push(r));
    await expect(conn.command('connect', {}, 100)).rejects.toThrow("no reply to 'connect' within 100 ms");
    expect(conn.isClosed).toBe(true);
    await expect(conn.command('linger', {}, 100)).rejects.toThrow('connection closed');
    expect(reasons).toEqual(["no reply to 'connect' within 100 ms"]);
  });

  it('decodes the connect reply into channel data, as FreeSWITCH 1.10 sends it (encoded, reply headers last)', async () => {
    const connected = conn.command('connect', {}, 1000);
    await waitFor('connect');
    fs.write(
      'Event-Name: CHANNEL_DATA\nUnique-ID: u-1\nCaller-Caller-ID-Name: Jos%C3%A9%20P\nvariable_sip_h_X-Lead-Id: L%2042\n' +
        'Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n',
    );
    const reply = await connected;
    expect(reply.headers.get('Reply-Text')).toBe('+OK\n');
    expect(reply.data?.get('caller-caller-id-name')).toBe('José P');
    expect(reply.data?.sipHeader('X-Lead-Id')).toBe('L 42');
    expect(reply.data?.get('Socket-Mode')).toBeUndefined();
  });

  it('reads plain events too and ignores events it did not ask for', async () => {
    const seen: string[] = [];
    conn.onEvent((name, h) => seen.push(`${name}:${h.get('Hangup-Cause')}`));
    const plain = (lines: string): string => `Content-Length: ${Buffer.byteLength(lines)}\nContent-Type: text/event-plain\n\n${lines}`;
    fs.write(plain('Event-Name: CHANNEL_PARK\nUnique-ID: u1\n\n') + plain('Event-Name: CHANNEL_HANGUP_COMPLETE\nHangup-Cause: USER%5FBUSY\n\n'));
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['CHANNEL_HANGUP_COMPLETE:USER_BUSY']);
    expect(conn.isClosed).toBe(false);
  });

  it('sends the commands of one turn in one write, in order, and a refused one not at all', async () => {
    const writes = jest.spyOn(ours, 'write');
    void conn.command('connect', {}, 1000).catch(() => undefined);
    const refused = conn.execute('u1', 'playback', 'a.wav\napi hupall', 'e0', 1000);
    void conn.command('linger', {}, 1000).catch(() => undefined);
    await expect(refused).rejects.toThrow('refusing a line break');
    await waitFor('linger');
    expect(writes.mock.calls.map((c) => c[0])).toEqual(['connect\n\nlinger\n\n']);
    void conn.api('uuid_setvar_multi u1 a=b', 1000).catch(() => undefined);
    void conn.execute('u1', 'bridge', 'sofia/x', 'e1', 1000).catch(() => undefined);
    await waitFor('bridge');
    expect(writes.mock.calls.map((c) => c[0])).toEqual([
      'connect\n\nlinger\n\n',
      'api uuid_setvar_multi u1 a=b\n\nsendmsg u1\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: sofia/x\nevent-uuid: e1\n\n',
    ]);
    expect(received).toBe(writes.mock.calls.map((c) => c[0]).join(''));
  });

  it('refuses to send a line break inside a command', async () => {
    await expect(conn.execute('u1', 'playback', 'a.wav\n\napi hupall', 'e1', 100)).rejects.toThrow('refusing a line break');
    expect(conn.isClosed).toBe(false);
  });
});
