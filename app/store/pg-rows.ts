/**
 * Reading rows that go straight out as JSON. pg turns every timestamptz into a Date (a slow parse) that the
 * response then turns back into text; Postgres's own json_agg is slower still (it looks up each column's type
 * for every row). These type parsers keep timestamps as text, rewritten to the ISO 8601 form Postgres's JSON
 * uses ("2026-11-24T15:39:42.123456+00:00"), so rows go out with one JSON.stringify and no precision is lost.
 */
import { createHash } from 'node:crypto';
import { types, type CustomTypesConfig, type QueryConfig } from 'pg';

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;

/** "2026-11-24 15:39:42.12+00" -> "2026-11-24T15:39:42.12+00:00" (DateStyle ISO, as the server's default). */
export function isoTimestamp(pgText: string): string {
  if (pgText.length < 11 || pgText[10] !== ' ') return pgText; // 'infinity' and the like pass through
  const t = `${pgText.slice(0, 10)}T${pgText.slice(11)}`;
  const sign = t[t.length - 3];
  return sign === '+' || sign === '-' ? `${t}:00` : t; // "+00" -> "+00:00"; "+05:30" is already whole
}

export const jsonReadyTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) return isoTimestamp;
    return types.getTypeParser(oid, format ?? 'text');
  }) as CustomTypesConfig['getTypeParser'],
};

/**
 * A named (server-side prepared) query whose rows keep timestamps as ISO text. Hot read routes use it: Postgres
 * parses and plans the statement once per connection instead of on every request.
 */
export function preparedJsonQuery(text: string, values: unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (!name) {
    name = `q_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    if (statementNames.size > 1000) statementNames.clear(); // the routes build a bounded set of texts; this is a guard
    statementNames.set(text, name);
  }
  return { name, text, values, types: jsonReadyTypes };
}
const statementNames = new Map<string, string>();
