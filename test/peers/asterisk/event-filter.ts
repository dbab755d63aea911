/**
 * A Stasis application's event type filter, as `PUT /applications/{app}/eventFilter` sets it (Asterisk 13.26 /
 * 16.3 and later; test/fixtures/asterisk/api-docs/applications.json), and as res_stasis applies it to every
 * message bound for the app's WebSocket:
 * - the body is the filter: empty sets both lists empty; an object sets the lists it names (`allowed`,
 *   `disallowed`) and leaves the other; an object naming neither changes nothing; an array is taken as the list
 *   for both (Asterisk reads the body as the list when it is not an object);
 * - each list holds objects with a non-empty string `type` (kept as given, other keys included); anything else is
 *   400 `Invalid format definition`. Asterisk sets `disallowed` before it checks `allowed`, so a body whose
 *   `disallowed` is valid and `allowed` is not still updates `disallowed`;
 * - an empty (or unset) allowed list allows every type; a type in the disallowed list is never sent, even when
 *   also allowed.
 */

export type FilterEntry = Record<string, unknown>;

export type FilterUpdate = { ok: true } | { ok: false; message: string };

const INVALID: FilterUpdate = { ok: false, message: 'Invalid format definition' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The types a list names, or undefined when an entry is not an object with a non-empty string `type`. */
function typesOf(list: unknown[]): Set<string> | undefined {
  const types = new Set<string>();
  for (const entry of list) {
    if (!isObject(entry) || typeof entry.type !== 'string' || entry.type === '') return undefined;
    types.add(entry.type);
  }
  return types;
}

class FilterList {
  entries: FilterEntry[] = [];
  types = new Set<string>();

  /** Asterisk's app_event_filter_set for one list; false: 400. */
  update(body: unknown, key: 'allowed' | 'disallowed'): boolean {
    let list: unknown = body;
    if (isObject(body)) {
      if (Object.keys(body).length === 0) list = undefined; // `{}` resets this list, as an empty body does
      else if (!(key in body)) return true; // another list was given: this one stays
      else list = body[key];
    }
    if (list === undefined) {
      this.entries = [];
      this.types = new Set();
      return true;
    }
    if (!Array.isArray(list)) return false;
    const types = typesOf(list);
    if (!types) return false;
    this.entries = list as FilterEntry[];
    this.types = types;
    return true;
  }
}

export class AppEventFilter {
  private readonly allowed = new FilterList();
  private readonly disallowed = new FilterList();

  /** Applies a request body (undefined: an empty body). */
  set(body: unknown): FilterUpdate {
    if (!this.disallowed.update(body, 'disallowed')) return INVALID;
    if (!this.allowed.update(body, 'allowed')) return INVALID;
    return { ok: true };
  }

  /** Whether an event of `type` goes to the app. */
  allows(type: string): boolean {
    if (this.disallowed.types.has(type)) return false;
    return this.allowed.types.size === 0 || this.allowed.types.has(type);
  }

  /** True when nothing is filtered (both lists empty). */
  get isOpen(): boolean {
    return this.allowed.types.size === 0 && this.disallowed.types.size === 0;
  }

  /** The Application model's `events_allowed` and `events_disallowed`, as set. */
  json(): { events_allowed: FilterEntry[]; events_disallowed: FilterEntry[] } {
    return { events_allowed: this.allowed.entries, events_disallowed: this.disallowed.entries };
  }
}
