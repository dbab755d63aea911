/**
 * Where this process allocates over a window the benchmark chooses: V8's sampling heap profiler, keeping the
 * samples of objects the garbage collector has already freed (so it shows allocation, not what is still live),
 * written as a .heapprofile (open it in Chrome DevTools' Memory tab).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class SteadyHeapProfile {
  private readonly session = new Session();
  private started?: Promise<void>;

  constructor(private readonly dir: string, private readonly name: string) {}

  /** Starts sampling, about one allocation every `intervalBytes`. */
  start(intervalBytes = 4096): Promise<void> {
    this.session.connect();
    this.started = (async () => {
      await this.session.post('HeapProfiler.enable');
      await this.session.post('HeapProfiler.startSampling', {
        samplingInterval: intervalBytes,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
    })();
    return this.started;
  }

  /** Stops sampling and writes the profile: its path. */
  async stop(): Promise<string> {
    if (!this.started) throw new Error('the heap profile was never started');
    await this.started;
    const { profile } = await this.session.post('HeapProfiler.stopSampling');
    this.session.disconnect();
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${this.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.heapprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }
}
