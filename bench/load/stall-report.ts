/**
 * Lines slow call setups up against stalls: `npx tsx bench/load/stall-report.ts DIR [--slow-ms 20]` after
 * `BENCH_STALL_DIR=DIR npm run bench:cps ...`. Prints one JSON line per process (its event-loop stalls and GC
 * pauses during the measured run) and per episode of slow setups (calls over --slow-ms placed less than 300 ms
 * apart), with the stalls of each process that overlap the episode: who was stalled when setups were slow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Stall } from './stall-probe';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  process.stderr.write('usage: npx tsx bench/load/stall-report.ts DIR [--slow-ms 20]\n');
  process.exit(2);
}
const slowMs = args.includes('--slow-ms') ? Number(args[args.indexOf('--slow-ms') + 1]) : 20;

const children: Record<string, Stall[]> = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.stalls.jsonl'))) {
  children[f.replace(/\.stalls\.jsonl$/, '')] = readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Stall);
}
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const round = (n: number): number => Math.round(n * 10) / 10;

for (const f of readdirSync(dir).filter((f) => /^setups-.*\.json$/.test(f))) {
  const run = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { startedAt: number; calls: Array<{ placedAt: number; setupMs: number }>; peerStalls: Stall[] };
  const t0 = run.startedAt;
  const calls = [...run.calls].sort((a, b) => a.placedAt - b.placedAt);
  const end = Math.max(...calls.map((c) => c.placedAt + c.setupMs));
  const stalls: Record<string, Stall[]> = { peer: run.peerStalls, ...children };
  const sorted = calls.map((c) => c.setupMs).sort((a, b) => a - b);
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  out({ run: f, calls: calls.length, setup_p50_ms: pct(0.5), setup_p90_ms: pct(0.9), setup_p99_ms: pct(0.99), setup_max_ms: pct(1) });
  for (const [who, list] of Object.entries(stalls)) {
    const during = list.filter((s) => s.at >= t0 && s.at <= end);
    const loops = during.filter((s) => s.kind === 'loop').map((s) => s.ms);
    const gcs = during.filter((s) => s.kind === 'gc').map((s) => s.ms);
    out({ run: f, process: who, loop_stalls_10ms: loops.length, loop_stall_max_ms: Math.max(0, ...loops), loop_stall_total_ms: round(loops.reduce((a, b) => a + b, 0)), gc_pauses_2ms: gcs.length, gc_pause_max_ms: Math.max(0, ...gcs), gc_total_ms: round(gcs.reduce((a, b) => a + b, 0)) });
  }
  const episodes: Array<typeof calls> = [];
  for (const c of calls.filter((c) => c.setupMs > slowMs)) {
    const last = episodes[episodes.length - 1];
    if (last && c.placedAt - last[last.length - 1]!.placedAt < 300) last.push(c);
    else episodes.push([c]);
  }
  for (const e of episodes) {
    const from = e[0]!.placedAt;
    const to = Math.max(...e.map((c) => c.placedAt + c.setupMs));
    const worst = Object.fromEntries(
      Object.entries(stalls).map(([who, list]) => {
        const near = list.filter((s) => s.at >= from - 50 && s.at <= to + 50);
        const loop = near.filter((s) => s.kind === 'loop');
        const gc = near.filter((s) => s.kind === 'gc');
        return [who, { loop_max_ms: Math.max(0, ...loop.map((s) => s.ms)), gc_max_ms: Math.max(0, ...gc.map((s) => s.ms)), gc_kinds: [...new Set(gc.map((s) => s.gc))] }];
      }),
    );
    out({ run: f, episode_s: [round((from - t0) / 1000), round((to - t0) / 1000)], slow_calls: e.length, setup_max_ms: Math.max(...e.map((c) => c.setupMs)), ...worst });
  }
}
