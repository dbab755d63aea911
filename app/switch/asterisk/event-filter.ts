/**
 * Keeps Asterisk from sending the app events it never reads (issue 17): after each events WebSocket (re)connect,
 * `PUT /applications/{app}/eventFilter` with HANDLED_EVENT_TYPES as the allowed list. A real call brings ~53 events,
 * 33 of them ChannelVarset; the filter leaves about a third of them. The Stasis app exists only while its socket
 * is connected, so a reconnect (or another node) sets it again.
 * - An Asterisk older than 13.26 / 16.3 has no such route (404 `Resource not found`, or 405 / 501): one warning,
 *   and the events come unfiltered (the event stream drops the chatter unparsed, as before).
 * - Any other failure is logged and retried with the adapter's backoff while the same socket stays open; events
 *   arrive unfiltered meanwhile, which costs CPU but never a call.
 */
import type { Logger } from '../../observability/logger';
import { Backoff } from '../../util/backoff';
import { AriError, type AriRest } from './ari-rest';
import { HANDLED_EVENT_TYPES } from './channel-router';

export type EventFilterState = 'pending' | 'set' | 'unsupported';

/** An answer saying the switch has no eventFilter operation (an older Asterisk), as opposed to a failure. */
export function isFilterUnsupported(err: unknown): boolean {
  if (!(err instanceof AriError)) return false;
  if (err.kind === 'unsupported' || err.status === 405 || err.status === 501) return true;
  // 404 `Resource not found` is the unknown path; 404 `Application not found` is a known path without our app.
  return err.status === 404 && !/application/i.test(err.detail);
}

export interface EventFilterDeps {
  rest: AriRest;
  app: string;
  url: string;
  /** True while the socket this attempt is for is still the open one. */
  isOpen(): boolean;
  /** A delay that the adapter's stop() cuts short. */
  wait(ms: number): Promise<void>;
  track(work: Promise<unknown>): void;
  backoff: { initialMs: number; maxMs: number };
  log: Logger;
}

export class EventFilterSetter {
  private generation = 0;
  private warned = false;
  /** Resolved once the current connection's first attempt has an answer (set, unsupported or failed). */
  private firstAnswer: Promise<void> = Promise.resolve();
  state: EventFilterState = 'pending';

  constructor(private readonly d: EventFilterDeps) {}

  /** The events socket (re)opened: set the filter for this connection (a run for an earlier one gives up). */
  onOpen(): void {
    const generation = ++this.generation;
    this.state = 'pending';
    let answered: () => void = () => undefined;
    this.firstAnswer = new Promise((resolve) => (answered = resolve));
    this.d.track(this.run(generation, answered).finally(answered));
  }

  /** Waits (at most `ms`) for the first answer to the current connection's filter request; retries are not waited for. */
  async firstAttempt(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstAnswer, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  private async run(generation: number, answered: () => void): Promise<void> {
    const backoff = new Backoff(this.d.backoff);
    const current = (): boolean => generation === this.generation && this.d.isOpen();
    while (current()) {
      try {
        await this.d.rest.setEventFilter(this.d.app, HANDLED_EVENT_TYPES);
        if (generation !== this.generation) return;
        this.state = 'set';
        this.d.log.info({ allowed: HANDLED_EVENT_TYPES.length }, 'ARI event filter set: only the event types the adapter reads come');
        return;
      } catch (err) {
        if (generation !== this.generation) return;
        const e = err as AriError;
        if (isFilterUnsupported(err)) {
          this.state = 'unsupported';
          const context = { url: this.d.url, app: this.d.app, status: e.status, err: e.message };
          if (this.warned) this.d.log.info(context, 'ARI event filter unsupported; events come unfiltered');
          else this.d.log.warn(context, 'this Asterisk has no ARI event filter (needs 13.26 / 16.3 or later): every event comes to the adapter, which drops those it does not read; calls are not affected');
          this.warned = true;
          return;
        }
        answered();
        const delay = backoff.next();
        this.d.log.warn({ app: this.d.app, status: e.status, err: e.message, retryInMs: delay }, 'setting the ARI event filter failed; retrying (events come unfiltered meanwhile)');
        await this.d.wait(delay);
      }
    }
  }
}
