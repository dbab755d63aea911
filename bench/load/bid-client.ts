/**
 * The bid-update load for bench:bids, in a process of its own: one socket.io client sends `bids:update` batches
 * back to back (up to `inFlight` unacknowledged) for `seconds`, and prints what was acknowledged as one JSON line.
 *   tsx bench/load/bid-client.ts <url> <api key> <target ids, comma-separated> <batch> <seconds> <inFlight>
 */
import { io } from 'socket.io-client';

async function main(): Promise<void> {
  const [url, key, idList, batchArg, secondsArg, inFlightArg] = process.argv.slice(2) as [string, string, string, string, string, string];
  const ids = idList.split(',');
  const batch = Number(batchArg);
  const seconds = Number(secondsArg);
  const inFlight = Number(inFlightArg);
  const socket = io(url, { path: '/live', auth: { token: key }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('ready', () => resolve());
    socket.once('connect_error', reject);
  });
  let applied = 0;
  let failed = 0;
  let round = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (Date.now() < deadline) {
      round += 1;
      const offset = (round * batch) % ids.length;
      const updates = Array.from({ length: batch }, (_, i) => ({ targetId: ids[(offset + i) % ids.length]!, bidCents: 1000 + ((round + i) % 500) }));
      // One target appears once per batch (batch <= ids).
      const reply = (await socket.timeout(30_000).emitWithAck('bids:update', { updates })) as { results?: Array<{ ok: boolean }>; error?: unknown };
      if (!reply.results) throw new Error(`batch refused: ${JSON.stringify(reply.error)}`);
      for (const r of reply.results) r.ok ? applied++ : failed++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (Date.now() - started) / 1000;
  socket.disconnect();
  process.stdout.write(`${JSON.stringify({ applied, failed, seconds: elapsed })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bid client failed: ${err.message}\n`);
  process.exit(1);
});
