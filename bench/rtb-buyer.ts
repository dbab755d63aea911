/**
 * A sample RTB buyer (issue 15): an HTTP server that answers the exchange's pings. Copy it to test your own
 * endpoint: it reads a ping, checks its shape, and answers a bid (or 204, no bid) before the ping's tmax.
 * It uses nothing but node:http, so it runs anywhere Node 20 does:
 *
 *   node --import tsx bench/rtb-buyer.ts [--port 9100] [--buyers 20] [--min-delay-ms 5] [--max-delay-ms 50] [--no-bid-share 0]
 *
 * It serves `--buyers` buyers at /b1 ... /bN (each its own target's rtbUrl, e.g. http://127.0.0.1:9100/b1), each
 * answering after a delay drawn uniformly from [min, max] ms. bench/rtb.ts starts it as a separate process; it then
 * prints {"port":N} as its first stdout line, and GET /stats answers its CPU time, pings served and connections
 * accepted (the exchange reuses its connections: a few per buyer, not one per ping).
 *
 * A ping (POST, JSON; the header x-callx-tmax repeats tmax):
 *   {"callId":"...","campaignId":"c1","targetId":"t1","tmax":150,
 *    "call":{"areaCode":"312","callerHash":"<sha256 hex>","states":["IL"],"zip":"60601",
 *            "localTime":"2026-11-24T10:00","timeZone":"America/Chicago","attestation":"A"}}
 *   `call` carries only the facts the campaign shares (any of them may be absent).
 * An answer: 200 {"bidCents":1500,"destination":"sip:agent7@calls.buyer.example","expiresInSeconds":30}
 *   (destination and expiresInSeconds optional; bidCents 0 or HTTP 204: no bid).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['port', 'buyers', 'min-delay-ms', 'max-delay-ms', 'no-bid-share'],
  usage: `node --import tsx bench/rtb-buyer.ts [options]

  --port <n>           where to listen (default 9100; 0: any free port)
  --buyers <n>         buyers served, at /b1 ... /bN (default 20)
  --min-delay-ms <ms>  the shortest answer time (default 5)
  --max-delay-ms <ms>  the longest (default 50)
  --no-bid-share <x>   share of pings answered with no bid, 0 to 1 (default 0)
  --help               this text`,
});
const PORT = FLAGS.number('port', 9100, { min: 0, max: 65535, integer: true });
const BUYERS = FLAGS.number('buyers', 20, { min: 1, integer: true });
const MIN_DELAY = FLAGS.number('min-delay-ms', 5, { min: 0 });
const MAX_DELAY = FLAGS.number('max-delay-ms', 50, { min: MIN_DELAY });
const NO_BID_SHARE = FLAGS.number('no-bid-share', 0, { min: 0, max: 1 });

let served = 0;
let connections = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const cpu = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cpuUserUs: cpu.user, cpuSystemUs: cpu.system, served, connections }));
    return;
  }
  const buyer = /^\/b(\d+)$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !buyer || Number(buyer[1]) < 1 || Number(buyer[1]) > BUYERS) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let ping: { callId?: unknown; tmax?: unknown; call?: { areaCode?: string } };
    try {
      ping = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (typeof ping.callId !== 'string' || typeof ping.tmax !== 'number') {
      res.writeHead(400).end();
      return;
    }
    served++;
    const delay = MIN_DELAY + Math.random() * (MAX_DELAY - MIN_DELAY);
    setTimeout(() => {
      if (Math.random() < NO_BID_SHARE) {
        res.writeHead(204).end();
        return;
      }
      // Your pricing goes here: this one bids 5.00 to 30.00, a little more for some area codes.
      const bidCents = 500 + Math.floor(Math.random() * 2500) + (ping.call?.areaCode === '312' ? 200 : 0);
      const body = JSON.stringify({ bidCents, expiresInSeconds: 30 });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, delay);
  });
});
server.on('connection', () => connections++);
server.keepAliveTimeout = 30_000; // the exchange keeps its connections open between pings
server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
