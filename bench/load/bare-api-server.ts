/**
 * The floor under bench:api: a bare node:http server (no express, no auth, no database) that answers each of the
 * benchmark's requests with a real answer captured from the node beforehand, same status, type and body. Its CPU
 * per request is what node:http, the kernel's loopback and the answer's bytes cost on this machine before the API
 * does anything.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedAnswers {
  /** GET /v1/calls?... */
  list: string;
  /** GET /v1/calls/:id */
  detail: string;
  /** PATCH /v1/targets/:id/bid */
  bid: string;
}

export async function startBareApiServer(answers: CannedAnswers): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const body = req.method === 'PATCH' ? answers.bid : url.startsWith('/v1/calls?') ? answers.list : answers.detail;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
