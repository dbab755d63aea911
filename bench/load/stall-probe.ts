/**
 * Stall probe: records when a process's event loop stalled and when its garbage collector paused, so a bench can
 * line slow call setups up against them. Loaded into an exchange child with `--import` (it starts itself when
 * BENCH_STALL_FILE is set: one JSON line per stall or GC pause, written when the process exits) and used in the
 * bench process directly through `startStallProbe`.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

export interface Stall {
  /** wall-clock ms when the stall or pause ended */
  at: number;
  kind: 'loop' | 'gc';
  /** how long: a loop tick late by this much, or a GC pause this long */
  ms: number;
  /** GC: major / minor / incremental / weak */
  gc?: string;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

/** Ticks every `tickMs`; a tick later than `minLateMs` is a loop stall. GC pauses of `minGcMs` or more are kept. */
export function startStallProbe(tickMs = 5, minLateMs = 10, minGcMs = 2): { stalls: Stall[]; stop(): void } {
  const stalls: Stall[] = [];
  let expected = performance.now() + tickMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    if (late >= minLateMs) stalls.push({ at: Date.now(), kind: 'loop', ms: Math.round(late * 10) / 10 });
    expected = now + tickMs;
  }, tickMs);
  timer.unref();
  const origin = performance.timeOrigin;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < minGcMs) continue;
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      stalls.push({ at: Math.round(origin + e.startTime + e.duration), kind: 'gc', ms: Math.round(e.duration * 10) / 10, gc: GC_KINDS[kind] ?? String(kind) });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stalls,
    stop() {
      clearInterval(timer);
      obs.disconnect();
    },
  };
}

const file = process.env.BENCH_STALL_FILE;
if (file) {
  const probe = startStallProbe();
  const dump = (): void => {
    try {
      writeFileSync(file, probe.stalls.map((s) => JSON.stringify(s)).join('\n') + '\n');
    } catch {
      // best effort: a probe must never break the process it watches
    }
  };
  process.on('exit', dump);
}
