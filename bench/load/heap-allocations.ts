/**
 * Bytes this process allocated on the V8 heap over a window, a figure the machine's load does not move (unlike CPU
 * time): what the heap held before each collection minus what the previous one left, plus the growth since the
 * last. Read with v8.GCProfiler, which records the heap before and after every collection in the window.
 */
import v8 from 'node:v8';

export class HeapAllocations {
  private profiler?: v8.GCProfiler;
  private usedAtStart = 0;

  start(): void {
    this.profiler = new v8.GCProfiler();
    this.usedAtStart = v8.getHeapStatistics().used_heap_size;
    this.profiler.start();
  }

  /** Bytes allocated since start() (an estimate: objects allocated and freed within one collection are counted). */
  stop(): number {
    if (!this.profiler) throw new Error('HeapAllocations.stop() before start()');
    const usedAtEnd = v8.getHeapStatistics().used_heap_size;
    const { statistics } = this.profiler.stop();
    this.profiler = undefined;
    let bytes = 0;
    let left = this.usedAtStart;
    for (const gc of statistics) {
      bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - left);
      left = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return bytes + Math.max(0, usedAtEnd - left);
  }
}
