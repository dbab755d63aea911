/**
 * Property-based fuzzing of the whole API (issue 13): every operation in a started node's /openapi.json gets
 * requests generated from its own schemas, valid-shaped and hostile (huge integers, NUL bytes, lone surrogates,
 * dates outside 1970..9999 or not ISO at all, forged cursors, wrong types, bad %-escapes), under every role (admin,
 * agent, seller, buyer, an unknown key and none). Whatever it sends, no answer may be a 5xx.
 *
 * FUZZ_RUNS sets the runs per operation (default 120: about 5,300 requests); FUZZ_SEED replays a run (the seed is
 * printed with the count and with any failure).
 */
import fc from 'fast-check';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

jest.setTimeout(180_000);

type Schema = {
  type?: string;
  enum?: unknown[];
  anyOf?: Schema[];
  allOf?: Schema[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema | false;
  prefixItems?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
};
interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
  textBody: boolean;
  /** the roles the operation's description says may use it */
  roles: string[];
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

let infra: TestInfra;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const keyIds: string[] = [];

beforeAll(async () => {
  infra = await createTestInfra('api_fuzz');
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', API_RATE_LIMIT_PER_SECOND: '0', API_AUTH_FAILURES_PER_MINUTE: '0' });
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550100'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 1500 });
  // One bridged, billed call, so the call, refund, privacy and ledger routes have something to find.
  await infra.pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, campaign_id, seller_account_id, outcome, winner_target_id, winner_buyer_id, price_cents,
       started_at, decided_at, answered_at, bridged_at, ended_at, duration_sec, billable_sec, hangup_cause, hung_up_by)
     VALUES ('call-1', 'inbound', '+18135550100', '+18885550100', 'c', 's', 'bridged', 't', 'b', 1500,
       now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour', now() - interval '50 minutes', 600, 600, 'NORMAL_CLEARING', 'caller')`,
  );
  await infra.pool.query(`INSERT INTO bridge_attempts (call_id, attempt_no, target_id, buyer_id, destination, started_at, ended_at, status)
    VALUES ('call-1', 1, 't', 'b', 'sip:t@buyers.example', now() - interval '1 hour', now() - interval '50 minutes', 'bridged')`);
  await billEndedCalls(infra.pool, ['call-1']);
  for (const [role, accountId] of [['admin'], ['agent'], ['seller', 's'], ['buyer', 'b']] as const) {
    const k = await createApiKey(infra.pool, { role, ...(accountId ? { accountId } : {}) });
    keys[role] = k.key;
    keyIds.push(k.id);
  }
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

// ---- values ------------------------------------------------------------------------------------------------------

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** What an attacker or a careless client sends instead of the value asked for. */
const HOSTILE: unknown[] = [
  2147483648, -2147483649, 9007199254740993, 1e20, -1e20, 1e308, -0, 0.5, 1e-300,
  '', ' ', 'a\u0000b', '\u0000', 'x\ud800y', '\udc00', '\ud83d', '💸', 'x'.repeat(5000),
  '-200000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', "' OR '1'='1", '2001', '0', '9999-12-31T23:59:60Z', '1969-12-31T23:59:59Z',
  'WyIyMDIwIiwieCJd', b64(['2020', 'x']), b64(['-200000-01-01T00:00:00Z', 'x']), b64([1, 2]), b64({}), b64(['2026-01-01T00:00:00Z', 'a\u0000']), '%%%', '../..',
  "'; DROP TABLE calls; --", 'sip:{origination_caller_id_number=+1900}x@h', '+1900\u0000', 'NaN', 'Infinity', 'true', 'null',
  true, false, null, [], [1, 2], {}, { $gt: '' }, { __proto__: { admin: true } }, [[[[[[[[]]]]]]]],
];
const hostile = fc.constantFrom(...HOSTILE);
const ids = fc.constantFrom('s', 'b', 'c', 't', 'call-1', 'nobody', 'x-1');
const phones = fc.constantFrom('+18135550100', '+18885550100', '(813) 555-0100', '+442071838750', '+1234', '18135550100');

/** Values shaped by a property's name, so generated requests reach past the first lookups. */
function byName(name: string): fc.Arbitrary<unknown> | undefined {
  if (/^(id|campaignId|accountId|sellerAccountId|buyerAccountId|callId|targetId)$/.test(name)) return ids;
  if (/^(number|did|to|ani)$/.test(name)) return phones;
  if (name === 'list') return fc.constantFrom('global', 'registry', 'campaign:c', 'campaign:nobody');
  if (name === 'destination') return fc.constantFrom('sip:a@buyer.example', 'sips:a@10.0.0.5:5061', '+15551230001', 'sip:a@b;transport=tcp');
  if (name === 'timeZone') return fc.constantFrom('America/New_York', 'UTC', 'Mars/Olympus');
  if (name === 'keyId') return fc.constantFrom('key_000000000000', 'key_abcdefabcdef');
  if (name === 'queue') return fc.constantFrom('billing', 'fraud');
  return undefined;
}

/** A value the schema accepts (or nearly: patterns and bounds are honoured, cross-field rules are not). */
function valid(s: Schema, depth = 0, clean = false): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => valid(x, depth, clean)));
  if (s.allOf) return valid(Object.assign({}, ...s.allOf) as Schema, depth, clean);
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.bigInt({ min: BigInt(Math.max(s.minimum ?? -1e12, -1e15)), max: BigInt(Math.min(s.maximum ?? 1e12, 1e15)) }).map(Number);
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
    case 'string':
      if (s.format === 'date-time') return fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'uuid') return fc.uuid();
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(s.minLength ?? 0, Math.min(s.maxLength ?? 30, 30)), unit: 'grapheme' });
    case 'array':
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((x) => valid(x, depth + 1, clean)));
      return fc.array(s.items ? valid(s.items, depth + 1, clean) : fc.anything({ maxDepth: 1 }), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 4)) });
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) props[k] = field(k, v, depth + 1, clean);
      // Records keyed by an enum (a schedule's days) list every key as a property.
      if (s.propertyNames?.enum && typeof s.additionalProperties === 'object') {
        for (const k of s.propertyNames.enum as string[]) props[k] = valid(s.additionalProperties, depth + 1, clean);
      }
      return fc.record(props, { requiredKeys: s.propertyNames?.enum ? Object.keys(props) : (s.required ?? []).filter((k) => k in props) });
    }
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

/** A property's value: what the schema wants (by name first); unless `clean`, now and then a hostile one. */
function field(name: string, s: Schema, depth = 0, clean = false): fc.Arbitrary<unknown> {
  const hinted = s.format === undefined && s.enum === undefined ? byName(name) : undefined;
  const good = depth > 4 ? valid({ type: s.type }, depth, clean) : (hinted ?? valid(s, depth, clean));
  return clean ? good : fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: hostile });
}

/** Query and path values are text: non-strings are sent as what String() makes of them. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
/** encodeURIComponent, but a lone surrogate (which it refuses) goes out as the invalid UTF-8 a careless client sends. */
const encode = (s: string): string => {
  let out = '';
  // for...of walks code points: a pair is one, a lone surrogate is one of length 1.
  for (const ch of s) out += ch.length === 1 && ch >= '\ud800' && ch <= '\udfff' ? '%ED%A0%80' : encodeURIComponent(ch);
  return out;
};

// ---- requests ----------------------------------------------------------------------------------------------------

interface Req {
  role: string;
  url: string;
  body?: string;
  contentType?: string;
  contentEncoding?: string;
}

/** Raw path segments that are not even well-formed. */
const RAW_SEGMENTS = ['%E0%A4%A', '%00', '%', '%zz', '%2F', '..', '%C0%AF', '%ED%A0%80'];

function requestFor(op: Operation): fc.Arbitrary<Req> {
  // Every role, the ones the operation admits more often (so requests get past the role check to the input).
  const role = fc.oneof({ weight: 1, arbitrary: fc.constantFrom('admin', 'agent', 'seller', 'buyer', 'none', 'unknown') }, { weight: 2, arbitrary: fc.constantFrom(...op.roles) });
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const path = fc.tuple(
    ...pathParams.map((p) =>
      fc.oneof(
        { weight: 6, arbitrary: field(p.name, p.schema).map((v) => encode(asText(v))) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
      ),
    ),
  ).map((values) => {
    let i = 0;
    return op.path.replace(/\{[A-Za-z]+\}/g, () => values[i++]!);
  });
  const query = fc.tuple(
    ...queryParams.map((p) => (p.required ? field(p.name, p.schema) : fc.option(field(p.name, p.schema), { nil: undefined, freq: 2 })).map((v) => [p.name, v] as const)),
    fc.option(fc.constantFrom(['from[x]', '1'], ['limit[]', '2'], ['cursor', 'a'], ['unknown', 'x'], ['limit', '1e400']), { nil: undefined, freq: 4 }),
  ).map((pairs) => {
    const q = pairs.flatMap((pair) => (pair && pair[1] !== undefined ? [`${encode(String(pair[0]))}=${encode(asText(pair[1]))}`] : [])).join('&');
    return q ? `?${q}` : '';
  });
  // Now and then a query string no client library would make.
  const rawQuery = fc.option(fc.constantFrom('%E0%A4%A=1', 'from=%ff', 'cursor=%00', 'limit=%', 'a[b][c][d][e][f][g]=1', 'limit=1&limit=2', `${'x='.repeat(2000)}`), { nil: undefined, freq: 15 });
  const jsonBody = op.body
    ? fc.oneof(
        { weight: 5, arbitrary: valid(op.body, 0, true).map((b) => JSON.stringify(b)) },
        { weight: 5, arbitrary: valid(op.body).map((b) => JSON.stringify(b)) },
        { weight: 1, arbitrary: fc.tuple(valid(op.body), fc.constantFrom('extra', 'id', '__proto__'), hostile).map(([b, k, v]) => JSON.stringify({ ...(b as object), [k]: v })) },
        { weight: 1, arbitrary: hostile.map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.constantFrom('{"a":', '{"a":1}}', '\u0000', '{"name":"\\u0000"}', '{"name":"\\ud800"}', `{"n":${'['.repeat(5000)}`) },
      )
    : fc.constant(undefined);
  const body = op.textBody
    ? fc.tuple(fc.constantFrom('text/csv', 'text/plain', 'application/json'), fc.constantFrom('+18135550100\n', 'number\n+18135550100\nnot a number\n', '\u0000\n', '')).map(([contentType, text]) => ({ contentType, body: text as string | undefined }))
    : jsonBody.map((b) => ({ contentType: b === undefined ? undefined : 'application/json', body: b }));
  // Now and then a charset or content encoding the body is not in.
  const wire = fc.option(fc.constantFrom('charset=utf-16', 'charset=latin1', 'charset=x-bogus', 'gzip', 'deflate', 'br', 'bogus'), { nil: undefined, freq: 15 });
  return fc.record({ role, path, query, rawQuery, body, wire }).map((r) => ({
    role: r.role,
    url: `${r.path}${r.query}${r.rawQuery === undefined ? '' : `${r.query ? '&' : '?'}${r.rawQuery}`}`,
    body: r.body.body,
    contentType: r.body.contentType && r.wire?.startsWith('charset=') ? `${r.body.contentType}; ${r.wire}` : r.body.contentType,
    ...(r.body.body !== undefined && r.wire && !r.wire.startsWith('charset=') ? { contentEncoding: r.wire } : {}),
  }));
}

let sent = 0;
/** answers by status class, to show the run got past authentication and validation */
const classes: Record<string, number> = {};
async function send(op: Operation, r: Req): Promise<{ status: number; text: string }> {
  sent++;
  const headers: Record<string, string> = {};
  if (r.role === 'unknown') headers.authorization = 'Bearer cx_not_a_key';
  else if (r.role !== 'none') headers.authorization = `Bearer ${keys[r.role]}`;
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.contentEncoding) headers['content-encoding'] = r.contentEncoding;
  const res = await fetch(`http://127.0.0.1:${node.httpPort}${r.url}`, { method: op.method.toUpperCase(), headers, body: r.body, signal: AbortSignal.timeout(10_000) });
  const cls = `${String(res.status)[0]}xx`;
  classes[cls] = (classes[cls] ?? 0) + 1;
  return { status: res.status, text: await res.text() };
}

/** Fuzzing may pause the accounts or revoke the keys it uses: put them back before each operation. */
async function restore(): Promise<void> {
  await infra.pool.query("UPDATE accounts SET active = true WHERE id IN ('s', 'b')");
  await infra.pool.query('UPDATE api_keys SET revoked_at = NULL WHERE id = ANY($1)', [keyIds]);
}

it('no request to any operation, under any role, answers 5xx', async () => {
  const doc = (await (await fetch(`http://127.0.0.1:${node.httpPort}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { description?: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  };
  const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method,
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content['application/json']?.schema,
      textBody: op.requestBody !== undefined && op.requestBody.content['application/json'] === undefined,
      roles: /Roles: ([a-z, ]+)\./.exec(op.description ?? '')?.[1]?.split(', ') ?? ['admin'],
    })),
  );
  expect(operations.length).toBeGreaterThanOrEqual(40);

  const started = Date.now();
  const failures: string[] = [];
  for (const [i, op] of operations.entries()) {
    await restore();
    const run = await fc.check(
      fc.asyncProperty(requestFor(op), async (r) => {
        const res = await send(op, r);
        if (res.status >= 500) throw new Error(`${res.status} ${res.text.slice(0, 200)}`);
      }),
      { numRuns: RUNS, seed: SEED + i, endOnFailure: true },
    );
    if (run.failed) failures.push(`${op.method.toUpperCase()} ${op.path} (seed ${SEED + i}): ${JSON.stringify(run.counterexample)} -> ${String((run as { errorInstance?: unknown }).errorInstance)}`);
  }
  console.log(`fuzz: ${sent} requests to ${operations.length} operations under 6 roles in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}, answers ${JSON.stringify(classes)}, ${failures.length} failing operations`);
  expect(failures).toEqual([]);
});
