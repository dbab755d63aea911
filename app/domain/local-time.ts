/**
 * Local wall-clock parts of a UTC instant in an IANA zone, without I/O: Node's ICU does the zone math
 * (DST included). Formatters are cached per zone because creating one costs far more than using it.
 */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6; // 0 = Sunday, as Date#getDay

export interface LocalParts {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
  weekday: Weekday;
  hour: number; // 0..23
  minute: number; // 0..59
  /** hour * 60 + minute */
  minuteOfDay: number;
  /** YYYY-MM-DD in the zone */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, Weekday> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the zone name is one ICU knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

// Memo of the last minute computed per zone: one routing decision asks the same zone for many buyers.
const lastByZone = new Map<string, { minuteEpoch: number; parts: LocalParts }>();

/** Throws RangeError for an unknown zone; callers validate zones when config is loaded. */
export function localParts(instant: Date, timeZone: string): LocalParts {
  const minuteEpoch = Math.floor(instant.getTime() / 60_000);
  const memo = lastByZone.get(timeZone);
  if (memo && memo.minuteEpoch === minuteEpoch) return memo.parts;
  const parts = computeLocalParts(instant, timeZone);
  lastByZone.set(timeZone, { minuteEpoch, parts });
  return parts;
}

function computeLocalParts(instant: Date, timeZone: string): LocalParts {
  let year = 0, month = 0, day = 0, hour = 0, minute = 0;
  let weekday: Weekday = 0;
  for (const p of formatterFor(timeZone).formatToParts(instant)) {
    switch (p.type) {
      case 'year': year = Number(p.value); break;
      case 'month': month = Number(p.value); break;
      case 'day': day = Number(p.value); break;
      case 'hour': hour = Number(p.value); break;
      case 'minute': minute = Number(p.value); break;
      case 'weekday': weekday = WEEKDAYS[p.value] ?? 0; break;
      default: break;
    }
  }
  const mm = String(month).padStart(2, '0');
  const dd = String(day).padStart(2, '0');
  return { year, month, day, weekday, hour, minute, minuteOfDay: hour * 60 + minute, date: `${year}-${mm}-${dd}` };
}
