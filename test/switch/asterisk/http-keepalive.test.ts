/**
 * The ARI client's own HTTP/1.1 (http-keepalive.ts) against a bare TCP server that writes responses byte for byte:
 * the framings a server may use (Content-Length, chunked, until close), responses cut anywhere, interim 1xx,
 * `Connection: close`, the connection cap with requests waiting in order, idle connections closed, close().
 * What AriHttpRest does with it (deadlines, retry of a reused connection, keep-alive) is in ari-http-rest.test.ts.
 */
import net from 'node:net';
import { HttpTimeoutError, KeepAlivePool, dechunk } from '../../../app/switch/asterisk/http-keepalive';
import { waitFor } from './helpers';

interface Seen {
  head: string;
  body: string;
  socket: net.Socket;
}

/** A TCP server that hands each complete request (head and Content-Length body) to `answer`. */
async function rawServer(answer: (req: Seen) => void): Promise<{ port: number; sockets: net.Socket[]; requests: Seen[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const requests: Seen[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const req = { head, body: buf.toString('utf8', end + 4, end + 4 + length), socket };
        buf = buf.subarray(end + 4 + length);
        requests.push(req);
        answer(req);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const pool = (port: number, opts: { maxSockets?: number; idleMs?: number } = {}): KeepAlivePool =>
  new KeepAlivePool({ protocol: 'http:', host: '127.0.0.1', port, headers: 'Authorization: Basic eDp5\r\n', maxSockets: opts.maxSockets ?? 4, idleMs: opts.idleMs ?? 10_000 });

/** Writes `parts` with a pause between them, so the client reads the response in pieces. */
function writeInPieces(socket: net.Socket, parts: string[]): void {
  const [first, ...rest] = parts;
  socket.write(first as string);
  if (rest.length > 0) setTimeout(() => writeInPieces(socket, rest), 5);
}

describe('KeepAlivePool: the ARI client\'s HTTP/1.1', () => {
  it('sends one request as node:http did: request line, Host, the given headers, keep-alive, a JSON body with its length', async () => {
    const server = await rawServer((req) => req.socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
    const http = pool(server.port);
    try {
      expect(await http.request('POST', '/ari/channels?x=%C3%BC', '{"variables":{"V":"ü"}}', 1000)).toEqual({ status: 204, text: '' });
      await http.request('POST', '/ari/channels/1/answer', undefined, 1000);
      await http.request('DELETE', '/ari/channels/1', undefined, 1000);
      expect(server.requests.map((r) => [r.head, r.body])).toEqual([
        [`POST /ari/channels?x=%C3%BC HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Basic eDp5\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 24`, '{"variables":{"V":"ü"}}'],
        [`POST /ari/channels/1/answer HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Basic eDp5\r\nConnection: keep-alive\r\nContent-Length: 0`, ''],
        [`DELETE /ari/channels/1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Basic eDp5\r\nConnection: keep-alive`, ''],
      ]);
      expect(server.sockets).toHaveLength(1);
    } finally {
      http.close();
      await server.close();
    }
  });

  it('reads every framing, cut anywhere, and keeps the connection for the next request', async () => {
    const answers = [
      ['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"a":"ü"}xx'.replace('xx', '  ')],
      ['HTTP/1.1 20', '0 OK\r\nConte', 'nt-Length: 5\r\n\r', '\n[1,', '2]'],
      ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 404 Not Found\r\ncontent-length: 31\r\n\r\n{"message":"Channel not ', 'found"}'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{"a"\r\n', '6\r\n:"ü"}\r\n0\r\nX-Trailer: 1\r\n\r\n'],
    ];
    let n = 0;
    const server = await rawServer((req) => writeInPieces(req.socket, answers[n++] as string[]));
    const http = pool(server.port);
    try {
      expect(await http.request('GET', '/a', undefined, 1000)).toEqual({ status: 200, text: '{"a":"ü"}  ' });
      expect(await http.request('GET', '/b', undefined, 1000)).toEqual({ status: 200, text: '[1,2]' });
      expect(await http.request('GET', '/c', undefined, 1000)).toEqual({ status: 404, text: '{"message":"Channel not found"}' });
      expect(await http.request('GET', '/d', undefined, 1000)).toEqual({ status: 200, text: '{"a":"ü"}' });
      expect(server.sockets).toHaveLength(1);
    } finally {
      http.close();
      await server.close();
    }
  });

  it('does not reuse a connection the response closes, or whose body runs until the close', async () => {
    let n = 0;
    const server = await rawServer((req) => {
      n++;
      if (n === 1) req.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n[]');
      else if (n === 2) req.socket.end('HTTP/1.1 200 OK\r\n\r\n{"until":"close"}');
      else req.socket.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    });
    const http = pool(server.port);
    try {
      expect(await http.request('GET', '/1', undefined, 1000)).toEqual({ status: 200, text: '[]' });
      expect(await http.request('GET', '/2', undefined, 1000)).toEqual({ status: 200, text: '{"until":"close"}' });
      expect(await http.request('GET', '/3', undefined, 1000)).toEqual({ status: 200, text: '{}' }); // HTTP/1.0 without keep-alive
      expect(await http.request('GET', '/4', undefined, 1000)).toEqual({ status: 200, text: '{}' });
      expect(server.sockets).toHaveLength(4);
    } finally {
      http.close();
      await server.close();
    }
  });

  it('a server that closes each connection after its response, without saying so: every request still gets its answer', async () => {
    const server = await rawServer((req) => {
      req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]');
      setImmediate(() => req.socket.end());
    });
    const http = pool(server.port, { maxSockets: 2 });
    try {
      for (let i = 0; i < 20; i++) expect(await http.request('GET', `/${i}`, undefined, 1000)).toEqual({ status: 200, text: '[]' });
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, i)); // now and then after the server's close has arrived
        const burst = await Promise.all(Array.from({ length: 4 }, (_, k) => http.request('GET', `/b${i}-${k}`, undefined, 1000)));
        expect(burst).toEqual(Array.from({ length: 4 }, () => ({ status: 200, text: '[]' })));
      }
    } finally {
      http.close();
      await server.close();
    }
  });

  it('opens at most maxSockets connections; further requests wait and go out in order as connections free up', async () => {
    const held: Seen[] = [];
    const server = await rawServer((req) => held.push(req));
    const http = pool(server.port, { maxSockets: 2 });
    try {
      const done: string[] = [];
      const all = ['/1', '/2', '/3', '/4', '/5'].map((p) => http.request('GET', p, undefined, 2000).then((r) => done.push(`${p} ${r.text}`)));
      await waitFor(() => held.length === 2, 1000, 'two requests at the server');
      expect(server.sockets).toHaveLength(2);
      while (held.length > 0) {
        const req = held.shift() as Seen;
        req.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${req.head.split(' ')[1]?.slice(1)}.`);
        await waitFor(() => held.length > 0 || done.length === 5, 1000, 'the next request');
      }
      await Promise.all(all);
      expect(server.requests.map((r) => r.head.split(' ')[1])).toEqual(['/1', '/2', '/3', '/4', '/5']);
      expect(done).toHaveLength(5);
      expect(server.sockets).toHaveLength(2);
    } finally {
      http.close();
      await server.close();
    }
  });

  it('closes a connection idle for idleMs, and a request waiting past its deadline times out without being sent', async () => {
    const server = await rawServer((req) => {
      if (req.head.startsWith('GET /fast')) req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const http = pool(server.port, { maxSockets: 1, idleMs: 100 });
    try {
      await http.request('GET', '/fast', undefined, 1000);
      const closed = new Promise<void>((r) => server.sockets[0]?.once('close', () => r()));
      await closed; // within about idleMs, not the server's doing
      const slow = http.request('GET', '/slow', undefined, 150);
      const waiting = http.request('GET', '/waiting', undefined, 100);
      await expect(waiting).rejects.toBeInstanceOf(HttpTimeoutError);
      await expect(slow).rejects.toThrow('timed out after 150 ms');
      expect(server.requests.map((r) => r.head.split(' ')[1])).toEqual(['/fast', '/slow']);
      expect(await http.request('GET', '/fast', undefined, 1000)).toEqual({ status: 200, text: '' });
    } finally {
      http.close();
      await server.close();
    }
  });

  it('close() fails the requests in flight and closes every connection', async () => {
    const server = await rawServer(() => undefined);
    const http = pool(server.port);
    const inFlight = http.request('GET', '/never', undefined, 5000);
    await waitFor(() => server.requests.length === 1, 1000, 'the request at the server');
    http.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
    await waitFor(() => server.sockets.every((s) => s.destroyed || s.readableEnded), 1000, 'the connection closed');
    await server.close();
  });

  it('refuses a response that is not HTTP, failing that request only', async () => {
    let n = 0;
    const server = await rawServer((req) => req.socket.write(n++ === 0 ? 'SSH-2.0-OpenSSH\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]'));
    const http = pool(server.port);
    try {
      await expect(http.request('GET', '/1', undefined, 1000)).rejects.toThrow(/malformed HTTP response/);
      expect(await http.request('GET', '/2', undefined, 1000)).toEqual({ status: 200, text: '[]' });
    } finally {
      http.close();
      await server.close();
    }
  });

  it('dechunk waits for the last chunk, and refuses a chunk longer than its size', () => {
    const body = Buffer.from('3\r\nabc\r\n0\r\n\r\n');
    for (let cut = 0; cut < body.length; cut++) expect(dechunk(body.subarray(0, cut), 0)).toBeUndefined();
    expect(dechunk(body, 0)).toBe('abc');
    expect(() => dechunk(Buffer.from('2\r\nabc\r\n0\r\n\r\n'), 0)).toThrow(/chunk longer than its size/);
  });
});
