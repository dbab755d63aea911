/**
 * A CPU profile of this process over a window the benchmark chooses (its steady phase, not start-up and warm-up),
 * through the inspector, written as a .cpuprofile (open it in Chrome DevTools or speedscope).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class SteadyProfile {
  private readonly session = new Session();
  private started?: Promise<void>;

  constructor(private readonly dir: string, private readonly name: string) {}

  /** Starts sampling (every 100 us, as --cpu-prof does). */
  start(): Promise<void> {
    this.session.connect();
    this.started = (async () => {
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 100 });
      await this.session.post('Profiler.start');
    })();
    return this.started;
  }

  /** Stops sampling and writes the profile: its path. */
  async stop(): Promise<string> {
    if (!this.started) throw new Error('the profile was never started');
    await this.started;
    const { profile } = await this.session.post('Profiler.stop');
    this.session.disconnect();
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${this.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }
}
