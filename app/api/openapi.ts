/**
 * The OpenAPI 3.1 document at GET /openapi.json, built from the same zod schemas that validate the requests:
 * each route module lists its routes (method, path, roles, and the schemas of its path parameters, query and
 * body), so the document cannot drift from what the API accepts.
 */
import { Router as ExpressRouter } from 'express';
import { z } from 'zod';
import type { Role } from '../store/api-keys';
import { rtbPingWebhook } from './rtb-ping-doc';
import { ErrorResource } from './resources';

export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express style (`/v1/calls/:id`) */
  path: string;
  summary: string;
  roles: Role[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** a streamed text body instead of JSON */
  textBody?: boolean;
  /** the JSON body of a success (app/api/resources.ts); absent for a non-JSON answer (CSV, metrics) */
  response?: z.ZodType;
  /** the success may also be CSV (`format=csv`); with no `response`, the success is CSV only */
  csv?: boolean;
  /** the success status(es) when not 200 (a create is 201; an idempotent repeat may answer 200) */
  successStatus?: number[];
  /** error statuses beyond the ones every route may answer (400, 401, 403, 404, 415, 429) */
  errorStatus?: number[];
}

/** Statuses every authenticated route may answer with an error body. */
const COMMON_ERRORS: Record<string, string> = {
  '400': 'invalid input',
  '401': 'missing or unknown API key',
  '403': 'the key\'s role may not use this route (or this field)',
  '404': 'no such resource (or not this account\'s)',
  '415': 'the body is not JSON (or, for imports, not text)',
  '429': 'rate limited; see Retry-After',
};
const ERROR_WORDS: Record<string, string> = { '409': 'conflicts with what exists (e.g. a tracking number already taken)', '413': 'body too large', '422': 'refers to something that does not exist, or refused by a rule', '500': 'failed (the body says why)', '502': 'the upstream refused' };

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

function jsonSchema(schema: z.ZodType): JsonSchema {
  return jsonSchemaOf(schema, 'input');
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      // Dates arrive as ISO 8601 strings (z.coerce.date).
      if ((ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def?.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

/**
 * A response schema as JSON Schema, its named parts (`.meta({id})`) moved to `components.schemas` (`defs`) and
 * referenced from there.
 */
function responseSchema(schema: z.ZodType, defs: Record<string, unknown>): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema & { $defs?: Record<string, unknown> };
  delete out.$schema;
  const named = out.$defs ?? {};
  delete out.$defs;
  const fix = (v: unknown): JsonSchema => JSON.parse(JSON.stringify(v).replace(/"#\/\$defs\//g, '"#/components/schemas/')) as JsonSchema;
  for (const [name, def] of Object.entries(named)) defs[name] = fix(def);
  // A schema that is itself named comes back as {$ref} plus its definition in $defs.
  return fix(out);
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const s = jsonSchema(schema);
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: prop,
  }));
}

export function openApiDocument(routes: readonly RouteDoc[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const defs: Record<string, unknown> = {};
  const errorRef = responseSchema(ErrorResource, defs);
  const errorBody = { 'application/json': { schema: errorRef } };
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      summary: r.summary,
      description: `Roles: ${r.roles.join(', ')}. A key of another account gets 404 for resources it does not own.`,
      security: [{ apiKey: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: responses(r),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    if (r.textBody) op.requestBody = { required: true, content: { 'text/csv': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } } };
    (paths[path] ??= {})[r.method] = op;
  }
  function responses(r: RouteDoc): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const csv = r.csv ? { 'text/csv': { schema: { type: 'string' } } } : {};
    const success = r.response ? { 'application/json': { schema: responseSchema(r.response, defs) }, ...csv } : r.csv ? csv : undefined;
    for (const status of r.successStatus ?? [200]) out[String(status)] = { description: 'success', ...(success ? { content: success } : {}) };
    for (const [status, description] of Object.entries(COMMON_ERRORS)) out[status] = { description, content: errorBody };
    for (const status of r.errorStatus ?? []) out[String(status)] = { description: ERROR_WORDS[String(status)] ?? 'refused', content: errorBody };
    return out;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    // Requests the exchange sends: the RTB ping to buyers' endpoints (issue 15).
    webhooks: { rtbPing: rtbPingWebhook() },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer <key>' } },
      schemas: defs,
    },
  };
}

export function openApiRoutes(routes: readonly RouteDoc[], info: { title: string; version: string }): ExpressRouter {
  const doc = JSON.stringify(openApiDocument(routes, info));
  const router = ExpressRouter();
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(doc);
  });
  return router;
}
