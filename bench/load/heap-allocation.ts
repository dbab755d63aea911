/**
 * This process's heap allocation and garbage-collection pauses over a window, from V8's GC profiler: bytes
 * allocated = heap used at the end - heap used at the start + what every collection in between freed. A count the
 * machine's load does not move (unlike CPU time), for comparing two versions of the code that runs here.
 */
import v8 from 'node:v8';

export interface HeapWindow {
  /** Bytes allocated on the JS heap during the window (survivors and garbage alike). */
  allocatedBytes: number;
  /** Collections in the window, their total and longest pause (ms), and the scavenges among them. */
  collections: number;
  scavenges: number;
  pauseMs: number;
  maxPauseMs: number;
}

/** Starts measuring; `stop()` ends the window and returns what it saw. One window at a time per process. */
export function startHeapWindow(): { stop(): HeapWindow } {
  const usedAtStart = v8.getHeapStatistics().used_heap_size;
  const profiler = new v8.GCProfiler();
  profiler.start();
  return {
    stop(): HeapWindow {
      const usedAtEnd = v8.getHeapStatistics().used_heap_size;
      const stats = profiler.stop()?.statistics ?? [];
      let freed = 0;
      let pauseUs = 0;
      let maxPauseUs = 0;
      let scavenges = 0;
      for (const s of stats) {
        freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
        pauseUs += s.cost;
        maxPauseUs = Math.max(maxPauseUs, s.cost);
        if (s.gcType === 'Scavenge') scavenges++;
      }
      return { allocatedBytes: usedAtEnd - usedAtStart + freed, collections: stats.length, scavenges, pauseMs: pauseUs / 1000, maxPauseMs: maxPauseUs / 1000 };
    },
  };
}
