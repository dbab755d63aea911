/**
 * The bid-update phase shared by bench:bids and bench:api: runs bid-client.ts in a process of its own against a
 * node whose targets are t1..t<targets>, then returns the `bid_updates_per_s` figure with its conditions and
 * whether the node's snapshot agrees with Postgres afterwards.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ExchangeNode } from '../../app/exchange-node';

export async function measureBidUpdates(
  node: ExchangeNode,
  buyerKey: string,
  p: { targets: number; batch: number; seconds: number; inFlight: number },
): Promise<Record<string, unknown>> {
  const ids = Array.from({ length: p.targets }, (_, i) => `t${i + 1}`).join(',');
  const client = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bid-client.ts'), `http://127.0.0.1:${node.httpPort}`, buyerKey, ids, String(p.batch), String(p.seconds), String(p.inFlight)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  client.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => client.on('exit', resolve));
  if (code !== 0) throw new Error(`the bid client exited with ${code}`);
  const r = JSON.parse(out) as { applied: number; failed: number; seconds: number };
  const inDb = (await node.pool.query("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 't1'")).rows[0].b as number;
  return {
    name: 'bid_updates_per_s', value: Math.round(r.applied / r.seconds), unit: 'updates/s', transport: 'socket.io', targets: p.targets, batch: p.batch,
    in_flight: p.inFlight, seconds: Math.round(r.seconds * 10) / 10, refused: r.failed, snapshot_matches_db: node.snapshots.current().targets.get('t1')?.bidCents === inDb,
  };
}
