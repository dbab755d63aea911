/**
 * Event delivery as mod_event_socket's event_handler does it: each listener gets an event when it subscribed to
 * that event name (or ALL), when one of its filters matches (if it has filters), and, with myevents, only for its
 * own session. Events are built lazily and serialized once per format, so a channel nobody listens to costs little.
 */
import type { EventParts } from './channel';
import { eventFrameHead, jsonBodyMembers, plainTail, putJsonMembers, putPlainLines, putVariables, type EventFormat, type Header } from './wire';

export interface Subscription {
  /** LFLAG_EVENTS: set by the first `event`/`myevents`. */
  enabled: boolean;
  format: EventFormat;
  all: boolean;
  names: Set<string>;
  /** myevents: only events whose Unique-ID (or Job-Owner-UUID) is this session. */
  myEventsUuid: string | undefined;
  /** `filter <header> <value>` pairs, in order. */
  filters: Array<[string, string]>;
}

export const newSubscription = (): Subscription => ({
  enabled: false,
  format: 'plain',
  all: false,
  names: new Set(),
  myEventsUuid: undefined,
  filters: [],
});

/** A rendered event frame: its header block and its body, written one after the other. */
export interface EventFrame {
  head: string;
  body: string;
}

export interface EventSink {
  readonly subscription: Subscription;
  /** Called with a ready frame and the event's name. */
  deliver(frame: EventFrame, eventName: string): void;
}

/** An event about to be fired: its name, the ids the bus indexes on, and a builder for its parts. */
export interface PendingEvent {
  name: string;
  uniqueId?: string;
  jobOwnerUuid?: string;
  build(): EventParts;
  body?: string;
}

/**
 * The serialized event (switch_event_serialize / _json), rendered as pieces (each header's text is kept once per
 * name and value, see wire.ts) and joined into one string: no per-event block strings, one copy of the bytes.
 */
function serialize(parts: EventParts, format: EventFormat, body: string | undefined): string {
  const ch = parts.channel;
  const vars = ch && parts.withVars ? ch.vars : undefined;
  const out = new Array<string>(parts.head.length + (ch ? 1 : 0) + (vars?.size ?? 0) + parts.tail.length + 1);
  let n: number;
  if (format === 'json') {
    n = putJsonMembers(out, 0, parts.head);
    if (ch) out[n++] = ch.profileBlock('json');
    if (vars) n = putVariables(out, n, vars, 'json');
    n = putJsonMembers(out, n, parts.tail);
    const bodyMembers = jsonBodyMembers(body);
    if (bodyMembers !== '') out[n++] = bodyMembers;
    if (n === 0) return '{}';
    out.length = n;
    out[0] = `{${out[0] as string}`;
    out[n - 1] = `${out[n - 1] as string}}`;
    return out.join(',');
  }
  n = putPlainLines(out, 0, parts.head);
  if (ch) out[n++] = ch.profileBlock('plain');
  if (vars) n = putVariables(out, n, vars, 'plain');
  n = putPlainLines(out, n, parts.tail);
  out[n++] = plainTail(body);
  out.length = n;
  return out.join('');
}

const INDEXED_HEADERS = new Set(['unique-id', 'job-owner-uuid']);

export class EventBus {
  private readonly pinned = new Map<string, Set<EventSink>>();
  private readonly global = new Set<EventSink>();
  private readonly keysOf = new Map<EventSink, string[]>();

  /** Call after a sink's subscription changed (event, filter, myevents). */
  update(sink: EventSink): void {
    this.remove(sink);
    const sub = sink.subscription;
    if (!sub.enabled) return;
    const keys = pinKeys(sub);
    if (keys === null) {
      this.global.add(sink);
      this.keysOf.set(sink, []);
      return;
    }
    for (const key of keys) {
      let set = this.pinned.get(key);
      if (!set) this.pinned.set(key, (set = new Set()));
      set.add(sink);
    }
    this.keysOf.set(sink, keys);
  }

  remove(sink: EventSink): void {
    const keys = this.keysOf.get(sink);
    if (!keys) return;
    this.keysOf.delete(sink);
    this.global.delete(sink);
    for (const key of keys) {
      const set = this.pinned.get(key);
      if (!set) continue;
      set.delete(sink);
      if (set.size === 0) this.pinned.delete(key);
    }
  }

  /** True when some sink might take an event about this channel (lets callers skip building it). */
  hasListenersFor(uniqueId: string | undefined): boolean {
    return this.global.size > 0 || (uniqueId !== undefined && this.pinned.has(uniqueId));
  }

  publish(ev: PendingEvent): void {
    const candidates: EventSink[] = [];
    for (const s of this.global) candidates.push(s);
    if (ev.uniqueId) for (const s of this.pinned.get(ev.uniqueId) ?? []) candidates.push(s);
    if (ev.jobOwnerUuid && ev.jobOwnerUuid !== ev.uniqueId) {
      for (const s of this.pinned.get(ev.jobOwnerUuid) ?? []) if (!candidates.includes(s)) candidates.push(s);
    }
    if (candidates.length === 0) return;
    let parts: EventParts | undefined;
    const frames: Partial<Record<EventFormat, EventFrame>> = {};
    for (const sink of candidates) {
      const sub = sink.subscription;
      if (!sub.all && !sub.names.has(ev.name)) continue;
      parts ??= ev.build();
      if (!passes(sub, parts)) continue;
      const format = sub.format === 'xml' ? 'plain' : sub.format;
      let frame = frames[format];
      if (frame === undefined) {
        const serialized = serialize(parts, format, ev.body);
        frame = frames[format] = { head: eventFrameHead(format, serialized), body: serialized };
      }
      sink.deliver(frame, ev.name);
    }
  }
}

/**
 * The ids a subscription is pinned to, or null when it may receive events of any channel. With filters, an
 * event needs a positive match to pass; so positive Unique-ID/Job-Owner-UUID filters pin it, and negative
 * filters (value starting with '-') only remove events.
 */
function pinKeys(sub: Subscription): string[] | null {
  if (sub.myEventsUuid) return [sub.myEventsUuid];
  if (sub.filters.length === 0) return null;
  const keys: string[] = [];
  for (const [h, v] of sub.filters) {
    const value = v.replace(/^ +/, '');
    if (value.startsWith('-')) continue;
    if (!INDEXED_HEADERS.has(h.toLowerCase()) || value.startsWith('/') || value.startsWith('+')) return null;
    keys.push(value);
  }
  return keys;
}

function find(headers: readonly Header[], lower: string): string | undefined {
  for (const [h, v] of headers) if (h.toLowerCase() === lower) return v;
  return undefined;
}

function headerValue(parts: EventParts, name: string): string | undefined {
  const lower = name.toLowerCase();
  const v = find(parts.head, lower) ?? find(parts.tail, lower);
  const ch = parts.channel;
  if (v !== undefined || !ch) return v;
  if (lower.startsWith('variable_')) {
    if (!parts.withVars) return undefined;
    const varName = lower.slice('variable_'.length);
    for (const [k, value] of ch.vars) if (k.toLowerCase() === varName) return value;
    return undefined;
  }
  return find(ch.profileList(), lower);
}

/** Filter and myevents checks, as in mod_event_socket's event_handler. */
function passes(sub: Subscription, headers: EventParts): boolean {
  let send = true;
  if (sub.filters.length > 0) {
    send = false;
    for (const [name, raw] of sub.filters) {
      const value = headerValue(headers, name);
      if (value === undefined) continue;
      let comp = raw;
      let positive = true;
      while (comp.length > 0 && (comp[0] === '+' || comp[0] === '-' || comp[0] === ' ')) {
        if (comp[0] === '+') positive = true;
        else if (comp[0] === '-') positive = false;
        comp = comp.slice(1);
      }
      if (send && positive) continue;
      const match = raw.startsWith('/')
        ? safeRegex(comp.replace(/^\/|\/$/g, ''))?.test(value) ?? false
        : value.toLowerCase() === comp.toLowerCase();
      if (match) {
        if (positive) send = true;
        else return false;
      }
    }
  }
  if (send && sub.myEventsUuid) {
    const uid = headerValue(headers, 'Unique-ID');
    send = uid === sub.myEventsUuid || headerValue(headers, 'Job-Owner-UUID') === sub.myEventsUuid;
  }
  return send;
}

function safeRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}
