/**
 * Checks a value against a JSON Schema (2020-12) as /openapi.json publishes them: the subset zod's toJSONSchema
 * emits (type, enum, const, properties, required, additionalProperties, items, anyOf, oneOf, allOf, $ref into
 * the document's components, minimum, maximum, pattern). Returns where and why the value differs, or [].
 * No dependency: the project carries no JSON Schema validator, and this subset is small.
 */
type Schema = Record<string, unknown>;

const typeOf = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
};
const isType = (v: unknown, t: string): boolean => {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
};

export function schemaErrors(value: unknown, schema: unknown, doc: Schema, at = '$'): string[] {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${at}: not allowed`];
  const s = schema as Schema;
  const errors: string[] = [];
  if (typeof s.$ref === 'string') {
    const target = s.$ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Schema | undefined)?.[k], doc);
    if (target === undefined) return [`${at}: unresolved $ref ${s.$ref}`];
    errors.push(...schemaErrors(value, target, doc, at));
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => isType(value, t))) return [...errors, `${at}: is ${typeOf(value)}, expected ${types.join(' or ')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) errors.push(`${at}: is ${JSON.stringify(value)}, expected ${JSON.stringify(s.const)}`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: ${value} < ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: ${value} > ${s.maximum}`);
  }
  if (typeof value === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: does not match ${s.pattern}`);
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) errors.push(...schemaErrors(value, sub, doc, at));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const subs = s[key];
    if (!Array.isArray(subs)) continue;
    const matching = subs.filter((sub) => schemaErrors(value, sub, doc, at).length === 0).length;
    if (matching === 0 || (key === 'oneOf' && matching > 1)) errors.push(`${at}: matches ${matching} of the ${key} alternatives`);
  }
  if (Array.isArray(value) && s.items !== undefined) value.forEach((v, i) => errors.push(...schemaErrors(v, s.items, doc, `${at}[${i}]`)));
  if (typeOf(value) === 'object') {
    const o = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) errors.push(`${at}.${r}: missing`);
    for (const [k, v] of Object.entries(o)) {
      if (k in props) errors.push(...schemaErrors(v, props[k], doc, `${at}.${k}`));
      else if (s.additionalProperties !== undefined) errors.push(...schemaErrors(v, s.additionalProperties, doc, `${at}.${k}`));
    }
  }
  return errors;
}
