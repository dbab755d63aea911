import type { BuyerTarget } from './model';
import { localParts } from './local-time';

/** One counter a reservation must fit under. Keys are global (Redis), so every app node shares them. */
export interface CapCounter {
  kind: 'concurrency' | 'hourly' | 'daily' | 'monthly';
  /** key suffix, without the deployment's prefix */
  key: string;
  limit: number;
  /** counters of a period expire after it; concurrency never expires (released explicitly) */
  ttlSec: number;
}

/** The key (without the deployment's prefix) of a target's concurrency leases: a sorted set of call ids. */
export function concurrencyCapKey(targetId: string): string {
  return `cap:${targetId}:conc`;
}

/**
 * The counters a call to this target must fit under, right now. Periods are the buyer's own calendar
 * (its schedule's zone, else UTC): "100 calls a day" means the buyer's day.
 */
export function capCounters(target: BuyerTarget, now: Date): CapCounter[] {
  const caps = target.caps;
  const counters: CapCounter[] = [];
  const base = `cap:${target.id}`;
  if (caps.concurrency) counters.push({ kind: 'concurrency', key: concurrencyCapKey(target.id), limit: caps.concurrency, ttlSec: 0 });
  if (caps.hourly || caps.daily || caps.monthly) {
    const zone = target.schedule?.timeZone ?? 'UTC';
    let local;
    try {
      local = localParts(now, zone);
    } catch {
      local = localParts(now, 'UTC');
    }
    const month = local.date.slice(0, 7);
    if (caps.hourly) counters.push({ kind: 'hourly', key: `${base}:h:${local.date}T${String(local.hour).padStart(2, '0')}`, limit: caps.hourly, ttlSec: 2 * 3600 });
    if (caps.daily) counters.push({ kind: 'daily', key: `${base}:d:${local.date}`, limit: caps.daily, ttlSec: 2 * 86400 });
    if (caps.monthly) counters.push({ kind: 'monthly', key: `${base}:m:${month}`, limit: caps.monthly, ttlSec: 32 * 86400 });
  }
  return counters;
}
