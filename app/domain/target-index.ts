/**
 * Precomputed sets over a list of buyer targets (a campaign's open ones, in auction order), so that judging a call's
 * geography and open hours costs a few word operations per 32 targets instead of evaluating every target's rules:
 * - geography: per state, area code and zip, the targets that admit it, beside those with no rule of that kind;
 * - open hours: the targets open in the current minute (rebuilt once per minute, the unit of every schedule);
 * a call's eligible targets are the intersection of its four admitted sets, smallest first.
 * Sets are bitsets over positions in the list, so the eligible ones come out in list (auction) order, unsorted.
 * The answers are exactly those of judgeTargetForCall (the property test in test/domain/target-index.test.ts).
 * Pure: no I/O, the time is passed in; the memos are caches of pure answers.
 */
import type { BuyerTarget } from './model';
import { type ConsumerGeo, type ExclusionReason, scheduleOpenAt } from './discovery';
import { localParts } from './local-time';

type Bits = Int32Array;

/** Geography sets memoised per key (a state list, an area code): bounded, since a caller can send any zip or number. */
const MEMO_LIMIT = 1024;
/** The state memo's key for a consumer whose state is unknown (no real state list joins to it). */
const UNKNOWN_STATES = '\u0000';

/** One kind of geographic rule (states, area codes, zips): who has none, and who admits each value. */
interface Dimension {
  /** false when no target has a rule of this kind: the dimension is skipped */
  used: boolean;
  /** targets without a rule of this kind (they admit any value) */
  none: Bits;
  /** value -> targets whose rule admits it */
  admits: Map<unknown, Bits>;
}

/** The answer for one call; its sets are the index's scratch, valid until the index's next match. */
export interface TargetMatches {
  /** How many targets passed. */
  readonly eligibleCount: number;
  /** The targets that passed, as a bitset over positions (bit p of word p >>> 5). */
  readonly eligibleBits: Int32Array;
  /**
   * What the answer depends on (the state list, area code and zip as far as any target's rules look at them, and
   * which targets are open, when any has open hours): two calls with one key get the same answer, reasons included.
   */
  readonly key: string;
  isEligible(position: number): boolean;
  /** Why a target that did not pass was kept out (the same reason judgeTargetForCall gives). */
  reason(position: number): ExclusionReason;
}

export class TargetIndex implements TargetMatches {
  readonly size: number;
  private readonly words: number;
  /** state rules: admits = targets listing the state; excludes = targets excluding it; excludeOnly: exclusions but no list */
  private readonly states: Dimension;
  private readonly excludes = new Map<unknown, Bits>();
  private readonly excludeOnly: Bits;
  private readonly areaCodes: Dimension;
  private readonly zips: Dimension;
  /** targets with no schedule (always open) and the scheduled ones grouped by zone */
  private readonly unscheduled: Bits;
  private readonly byZone = new Map<string, number[]>();
  private readonly targets: readonly BuyerTarget[];

  private readonly stateMemo = new Map<string, { bits: Bits; count: number }>();
  private readonly areaMemo = new Map<string, { bits: Bits; count: number }>();
  /** open hours as of one UTC minute: every zone's local minute is fixed within it */
  private openMinute = Number.NaN;
  private readonly open: Bits;
  private openCount = 0;
  /** changes only when a rebuild changes the open set (so the answer key survives minutes that change nothing) */
  private openVersion = 0;
  private readonly openBefore: Bits;
  private readonly invalidZone: Bits;

  // Scratch answer of the last match (this object is the TargetMatches it returns).
  private readonly eligible: Bits;
  private readonly zipScratch: Bits;
  private stateSet: Bits | null = null;
  private areaSet: Bits | null = null;
  private zipSet: Bits | null = null;
  private geoStatesKnown = false;
  eligibleCount = 0;
  key = '';

  constructor(targets: readonly BuyerTarget[]) {
    this.targets = targets;
    this.size = targets.length;
    this.words = Math.ceil(targets.length / 32);
    const bits = (): Bits => new Int32Array(this.words);
    this.states = { used: false, none: bits(), admits: new Map() };
    this.excludeOnly = bits();
    this.areaCodes = { used: false, none: bits(), admits: new Map() };
    this.zips = { used: false, none: bits(), admits: new Map() };
    this.unscheduled = bits();
    this.open = bits();
    this.openBefore = bits();
    this.invalidZone = bits();
    this.eligible = bits();
    this.zipScratch = bits();

    targets.forEach((target, p) => {
      const t = target.targeting;
      const listed = t.states?.length ? t.states : undefined;
      const excluded = t.excludeStates?.length ? t.excludeStates : undefined;
      if (listed || excluded) {
        this.states.used = true;
        for (const s of listed ?? []) setBit(this.keyed(this.states.admits, s), p);
        for (const s of excluded ?? []) setBit(this.keyed(this.excludes, s), p);
        if (!listed) setBit(this.excludeOnly, p);
      } else setBit(this.states.none, p);
      this.indexList(this.areaCodes, t.areaCodes, p);
      this.indexList(this.zips, t.zips, p);
      if (!target.schedule) setBit(this.unscheduled, p);
      else {
        const zone = target.schedule.timeZone;
        const members = this.byZone.get(zone);
        if (members) members.push(p);
        else this.byZone.set(zone, [p]);
      }
    });
  }

  /** Marks the targets that pass the call's geography and open hours; the answer is valid until the next match. */
  match(geo: ConsumerGeo, now: Date): TargetMatches {
    this.geoStatesKnown = geo.states.length > 0;
    const sets: Array<{ bits: Bits; count: number }> = [];
    this.stateSet = this.areaSet = this.zipSet = null;
    let stateKey = '';
    let areaKey = '';
    let zipKey = '';
    let minuteKey = '';
    if (this.states.used) {
      stateKey = this.geoStatesKnown ? (geo.states.length === 1 ? geo.states[0]! : geo.states.join('\u0001')) : UNKNOWN_STATES;
      const s = this.admittedStates(stateKey, geo.states);
      this.stateSet = s.bits;
      sets.push(s);
    }
    if (this.areaCodes.used) {
      areaKey = geo.areaCode || ''; // no area code: only targets without an area code rule
      const a = this.admittedAreaCode(areaKey);
      this.areaSet = a.bits;
      sets.push(a);
    }
    if (this.zips.used) {
      zipKey = geo.zip?.slice(0, 5) || '';
      const z = this.admittedZip(zipKey);
      this.zipSet = z.bits;
      sets.push(z);
    }
    if (this.byZone.size > 0) {
      this.refreshOpen(now);
      minuteKey = String(this.openVersion);
      sets.push({ bits: this.open, count: this.openCount });
    }
    this.key = `${stateKey}\u0002${areaKey}\u0002${zipKey}\u0002${minuteKey}`;
    this.eligibleCount = this.intersect(sets);
    return this;
  }

  get eligibleBits(): Int32Array {
    return this.eligible;
  }

  isEligible(p: number): boolean {
    return hasBit(this.eligible, p);
  }

  reason(p: number): ExclusionReason {
    if (this.stateSet && !hasBit(this.stateSet, p)) return this.geoStatesKnown ? 'geo_state' : 'geo_unknown';
    if (this.areaSet && !hasBit(this.areaSet, p)) return 'geo_area_code';
    if (this.zipSet && !hasBit(this.zipSet, p)) return 'geo_zip';
    return hasBit(this.invalidZone, p) ? 'schedule_invalid' : 'schedule_closed';
  }

  /** eligible = the AND of the sets, the smallest first: a word the smallest set leaves empty reads no other. */
  private intersect(sets: Array<{ bits: Bits; count: number }>): number {
    const out = this.eligible;
    if (sets.length === 0) {
      out.fill(-1);
      if (this.size % 32) out[this.words - 1] = (1 << this.size % 32) - 1;
      return this.size;
    }
    sets.sort((a, b) => a.count - b.count);
    const first = sets[0]!.bits;
    let count = 0;
    for (let w = 0; w < this.words; w++) {
      let x = first[w]!;
      for (let k = 1; x !== 0 && k < sets.length; k++) x &= sets[k]!.bits[w]!;
      out[w] = x;
      if (x !== 0) count += popcount(x);
    }
    return count;
  }

  /** Targets admitting a consumer who may be in any of `states`: no state rule, or listed and not excluded. */
  private admittedStates(key: string, states: readonly string[]): { bits: Bits; count: number } {
    if (states.length === 0) return this.memoised(this.stateMemo, UNKNOWN_STATES, () => this.states.none);
    return this.memoised(this.stateMemo, key, () => {
      const listed = new Int32Array(this.excludeOnly);
      const excluded = new Int32Array(this.words);
      for (const s of states) {
        const l = this.states.admits.get(s);
        const x = this.excludes.get(s);
        for (let w = 0; w < this.words; w++) {
          if (l) listed[w] |= l[w]!;
          if (x) excluded[w] |= x[w]!;
        }
      }
      // An ambiguous location that might be in an excluded state is out (as matchTargeting says).
      for (let w = 0; w < this.words; w++) listed[w] = this.states.none[w]! | (listed[w]! & ~excluded[w]!);
      return listed;
    });
  }

  private admittedAreaCode(key: string): { bits: Bits; count: number } {
    return this.memoised(this.areaMemo, key, () => union(this.areaCodes.none, key ? this.areaCodes.admits.get(key) : undefined));
  }

  /** Zips are too many to memoise: the union goes into scratch. */
  private admittedZip(zip5: string): { bits: Bits; count: number } {
    const listed = zip5 ? this.zips.admits.get(zip5) : undefined;
    const out = this.zipScratch;
    let count = 0;
    for (let w = 0; w < this.words; w++) {
      out[w] = this.zips.none[w]! | (listed ? listed[w]! : 0);
      count += popcount(out[w]!);
    }
    return { bits: out, count };
  }

  /** The open set for now's minute: each scheduled target judged once per minute, in its zone's local time. */
  private refreshOpen(now: Date): void {
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute === this.openMinute) return;
    this.openBefore.set(this.open);
    this.open.set(this.unscheduled);
    this.invalidZone.fill(0);
    for (const [zone, members] of this.byZone) {
      let local;
      try {
        local = localParts(now, zone);
      } catch {
        for (const p of members) setBit(this.invalidZone, p);
        continue;
      }
      for (const p of members) if (scheduleOpenAt(this.targets[p]!.schedule!, local)) setBit(this.open, p);
    }
    this.openCount = 0;
    let changed = Number.isNaN(this.openMinute);
    for (let w = 0; w < this.words; w++) {
      this.openCount += popcount(this.open[w]!);
      if (this.open[w] !== this.openBefore[w]) changed = true;
    }
    if (changed) this.openVersion += 1; // (an invalid zone is invalid at every minute: it never changes alone)
    this.openMinute = minute;
  }

  private memoised(memo: Map<string, { bits: Bits; count: number }>, key: string, build: () => Bits): { bits: Bits; count: number } {
    let entry = memo.get(key);
    if (!entry) {
      const bits = build();
      let count = 0;
      for (let w = 0; w < this.words; w++) count += popcount(bits[w]!);
      entry = { bits, count };
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(key, entry);
    }
    return entry;
  }

  private indexList(dim: Dimension, values: readonly unknown[] | undefined, p: number): void {
    if (!values?.length) {
      setBit(dim.none, p);
      return;
    }
    dim.used = true;
    for (const v of values) setBit(this.keyed(dim.admits, v), p);
  }

  private keyed(map: Map<unknown, Bits>, key: unknown): Bits {
    let bits = map.get(key);
    if (!bits) map.set(key, (bits = new Int32Array(this.words)));
    return bits;
  }
}

const setBit = (bits: Bits, p: number): void => {
  bits[p >>> 5] |= 1 << (p & 31);
};
const hasBit = (bits: Bits, p: number): boolean => (bits[p >>> 5]! & (1 << (p & 31))) !== 0;

function union(a: Bits, b: Bits | undefined): Bits {
  const out = new Int32Array(a);
  if (b) for (let w = 0; w < out.length; w++) out[w] |= b[w]!;
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
