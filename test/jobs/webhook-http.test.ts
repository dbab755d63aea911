/**
 * The webhook sender against a real local HTTP receiver: by default it will not connect to a loopback or private
 * address, whether the URL names it as an IP or as a host name that resolves to it (so a customer's URL cannot
 * reach the exchange's own network); allowed, it delivers. It never follows a redirect, and gives up at its deadline.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookHttp } from '../../app/jobs/webhook-http';

let server: http.Server;
let port = 0;
const received: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      received.push(`${req.url} ${body}`);
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 1_000);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

it.each([`http://127.0.0.1:PORT/ok`, `http://localhost:PORT/ok`, `http://[::ffff:127.0.0.1]:PORT/ok`])('refuses %s by default, sending nothing', async (url) => {
  const sender = new WebhookHttp({ timeoutMs: 2_000, allowPrivate: false });
  received.length = 0;
  await expect(sender.post(url.replace('PORT', String(port)), {}, '{}')).rejects.toMatchObject({ code: 'ENOTPUBLIC' });
  expect(received).toEqual([]);
  sender.close();
});

it('delivers to a private address when allowed; a redirect is answered as it is, not followed', async () => {
  const sender = new WebhookHttp({ timeoutMs: 2_000, allowPrivate: true });
  received.length = 0;
  expect(await sender.post(`http://127.0.0.1:${port}/ok`, { 'content-type': 'application/json' }, '{"a":1}')).toBe(204);
  expect(await sender.post(`http://127.0.0.1:${port}/redirect`, {}, '{"b":2}')).toBe(302);
  expect(received).toEqual(['/ok {"a":1}', '/redirect {"b":2}']);
  sender.close();
});

it('gives up at its deadline', async () => {
  const sender = new WebhookHttp({ timeoutMs: 200, allowPrivate: true });
  await expect(sender.post(`http://127.0.0.1:${port}/slow`, {}, '{}')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  sender.close();
});
