/**
 * Profiles of this process over a window the benchmark chooses (its steady phase, not start-up and warm-up), through
 * the inspector: SteadyProfile writes a .cpuprofile (Chrome DevTools or speedscope), SteadyHeapProfile a .heapprofile
 * (DevTools' Memory tab) of where the process allocates.
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One inspector session sampling between start() and stop(), the profile written to `dir`. */
abstract class InspectorProfile {
  protected readonly session = new Session();
  private started?: Promise<void>;

  constructor(private readonly dir: string, private readonly name: string, private readonly ext: string) {}

  protected abstract begin(): Promise<void>;
  protected abstract end(): Promise<object>;

  start(): Promise<void> {
    this.session.connect();
    this.started = this.begin();
    return this.started;
  }

  /** Stops sampling and writes the profile: its path. */
  async stop(): Promise<string> {
    if (!this.started) throw new Error(`the ${this.ext} was never started`);
    await this.started;
    const profile = await this.end();
    this.session.disconnect();
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${this.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.${this.ext}`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }
}

/** CPU samples every 100 us, as --cpu-prof takes them. */
export class SteadyProfile extends InspectorProfile {
  constructor(dir: string, name: string) {
    super(dir, name, 'cpuprofile');
  }

  protected async begin(): Promise<void> {
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 100 });
    await this.session.post('Profiler.start');
  }

  protected async end(): Promise<object> {
    return (await this.session.post('Profiler.stop')).profile;
  }
}

/**
 * V8's sampling heap profiler, about one allocation every `intervalBytes`, keeping the samples of objects the
 * garbage collector has already freed (so it shows allocation, not what is still live).
 */
export class SteadyHeapProfile extends InspectorProfile {
  constructor(dir: string, name: string, private readonly intervalBytes = 4096) {
    super(dir, name, 'heapprofile');
  }

  protected async begin(): Promise<void> {
    await this.session.post('HeapProfiler.enable');
    await this.session.post('HeapProfiler.startSampling', {
      samplingInterval: this.intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
  }

  protected async end(): Promise<object> {
    return (await this.session.post('HeapProfiler.stopSampling')).profile;
  }
}
