/**
 * The OpenAPI 3.1 document at GET /openapi.json, built from the same zod schemas that validate the requests:
 * each route module lists its routes (method, path, roles, and the schemas of its path parameters, query and
 * body), so the document cannot drift from what the API accepts.
 */
import { Router as ExpressRouter } from 'express';
import { z } from 'zod';
import type { Role } from '../store/api-keys';
import { rtbPingWebhook } from './rtb-ping-doc';

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
  /** the success answer's shape, where documented (200 application/json) */
  response?: z.ZodType;
}

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
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const success = r.response ? { description: 'success', content: { 'application/json': { schema: jsonSchemaOf(r.response, 'output') } } } : { description: 'success' };
    const op: Record<string, unknown> = {
      summary: r.summary,
      description: `Roles: ${r.roles.join(', ')}. A key of another account gets 404 for resources it does not own.`,
      security: [{ apiKey: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        '200': success,
        '400': { description: 'invalid input', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '401': { description: 'missing or unknown API key' },
        '403': { description: 'the key\'s role may not use this route' },
        '404': { description: 'no such resource (or not this account\'s)' },
        '429': { description: 'rate limited; see Retry-After' },
      },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    if (r.textBody) op.requestBody = { required: true, content: { 'text/csv': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } } };
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    // Requests the exchange sends: the RTB ping to buyers' endpoints (issue 15).
    webhooks: { rtbPing: rtbPingWebhook() },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer <key>' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } },
        },
      },
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
