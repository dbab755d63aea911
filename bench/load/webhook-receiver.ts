/**
 * A webhook receiver for bench:webhooks, run as a process of its own: verifies each request's signature with the
 * secret it is given (as a customer's receiver would) and answers 204, or 401 when it does not verify. Prints its
 * port on stdout, then on SIGTERM the counts as one JSON line on stderr.
 *
 *   node --import tsx bench/load/webhook-receiver.ts <secret>...
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../app/domain/webhook-signature';

const secrets = process.argv.slice(2);
let verified = 0;
let refused = 0;
const server = http.createServer({ keepAlive: true }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const header = req.headers['x-callx-signature'] as string | undefined;
    const nowSec = Math.floor(Date.now() / 1000);
    const ok = secrets.some((s) => verifyWebhookSignature(raw, header, s, { nowSec }).ok);
    if (ok) verified += 1;
    else refused += 1;
    res.writeHead(ok ? 204 : 401).end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => {
  process.stderr.write(`${JSON.stringify({ verified, refused })}\n`);
  process.exit(0);
});
