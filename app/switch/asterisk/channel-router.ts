/**
 * Routes each ARI event to the object that owns the channel, bridge or playback it is about (a caller leg, a
 * bridge attempt, a pending originate). Owners register when they create or receive a channel and unregister
 * when it ends, so nothing accumulates; ids that ended recently are remembered for a while, so a late event or a
 * reconciliation snapshot taken before the end is not mistaken for a new call.
 */
import { eventChannel, type AriEvent } from './ari-model';

/**
 * Every ARI event type some part of the adapter reads: the adapter's own onEvent (StasisStart, ApplicationReplaced)
 * and the owners this router delivers to (call-leg, bridge-attempt, outbound-call, adopted-bridge, bridge-pool).
 * The adapter asks Asterisk for these types only (event-filter.ts), so a type handled anywhere must be listed
 * here or its events never arrive; test/switch/asterisk/event-types.test.ts checks the sources against it.
 */
export const HANDLED_EVENT_TYPES = [
  'StasisStart',
  'StasisEnd',
  'ChannelStateChange',
  'Dial',
  'ChannelEnteredBridge',
  'ChannelHangupRequest',
  'ChannelDestroyed',
  'BridgeDestroyed',
  'PlaybackFinished',
  'ApplicationReplaced',
] as const;

export interface EventOwner {
  onEvent(ev: AriEvent): void;
}

const RECENT_MS = 120_000;

export class ChannelRouter {
  private readonly channels = new Map<string, EventOwner>();
  private readonly bridges = new Map<string, EventOwner>();
  private readonly recentlyEnded = new Map<string, number>();
  private lastPrune = Date.now();

  addChannel(id: string, owner: EventOwner): void {
    this.channels.set(id, owner);
  }

  /** Unregisters `id` (only if `owner` still owns it, when given). */
  removeChannel(id: string, owner?: EventOwner): void {
    if (owner && this.channels.get(id) !== owner) return;
    if (this.channels.delete(id)) this.markEnded(id);
  }

  addBridge(id: string, owner: EventOwner): void {
    this.bridges.set(id, owner);
  }

  removeBridge(id: string, owner?: EventOwner): void {
    if (owner && this.bridges.get(id) !== owner) return;
    if (this.bridges.delete(id)) this.markEnded(id);
  }

  ownerOf(channelId: string): EventOwner | undefined {
    return this.channels.get(channelId);
  }

  isTracked(id: string): boolean {
    return this.channels.has(id) || this.bridges.has(id);
  }

  endedRecently(id: string): boolean {
    return this.recentlyEnded.has(id);
  }

  get channelCount(): number {
    return this.channels.size;
  }

  get bridgeCount(): number {
    return this.bridges.size;
  }

  owners(): Set<EventOwner> {
    return new Set([...this.channels.values(), ...this.bridges.values()]);
  }

  /** Delivers an event to its owner; returns false when nobody owns what it is about. */
  dispatch(ev: AriEvent): boolean {
    const ch = eventChannel(ev);
    if (ch) {
      const owner = this.channels.get(ch.id);
      if (owner) {
        owner.onEvent(ev);
        return true;
      }
    }
    if (ev.playback) {
      const target = /^channel:(.+)$/.exec(ev.playback.target_uri ?? '')?.[1];
      const owner = target ? this.channels.get(target) : undefined;
      if (owner) {
        owner.onEvent(ev);
        return true;
      }
    }
    if (ev.bridge && !ch) {
      const owner = this.bridges.get(ev.bridge.id);
      if (owner) {
        owner.onEvent(ev);
        return true;
      }
    }
    return false;
  }

  private markEnded(id: string): void {
    const now = Date.now();
    this.recentlyEnded.delete(id);
    this.recentlyEnded.set(id, now);
    // Prune as we go (oldest first, in insertion order): the map holds a couple of minutes of ended ids.
    if (now - this.lastPrune < 10_000) return;
    this.lastPrune = now;
    for (const [k, t] of this.recentlyEnded) {
      if (now - t < RECENT_MS) break;
      this.recentlyEnded.delete(k);
    }
  }
}
