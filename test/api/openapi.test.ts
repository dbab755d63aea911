/**
 * /openapi.json describes the API from the schemas that validate it: every documented route exists and refuses
 * a request without a key, and the documented constraints are the ones enforced.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let node: ExchangeNode;
let doc: any;

beforeAll(async () => {
  infra = await createTestInfra('api_openapi');
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  const r = await fetch(`http://127.0.0.1:${node.httpPort}/openapi.json`);
  expect(r.status).toBe(200);
  doc = await r.json();
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

it('is an OpenAPI 3.1 document with bearer API keys on every operation', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p));
  expect(ops.length).toBeGreaterThanOrEqual(19);
  for (const op of ops as any[]) expect(op.security).toEqual([{ apiKey: [] }]);
});

it('every documented route exists and refuses a request without a key', async () => {
  for (const [path, methods] of Object.entries(doc.paths) as Array<[string, Record<string, unknown>]>) {
    const url = path.replace(/\{[^}]+\}/g, 'x');
    for (const method of Object.keys(methods)) {
      const r = await fetch(`http://127.0.0.1:${node.httpPort}${url}`, { method: method.toUpperCase() });
      expect([method, path, r.status]).toEqual([method, path, 401]);
    }
  }
});

it('documents the consent records and the caller block list', () => {
  const consent = doc.paths['/v1/consents'];
  expect(Object.keys(consent).sort()).toEqual(['get', 'post']);
  const consentBody = consent.post.requestBody.content['application/json'].schema;
  expect(consentBody.required).toEqual(expect.arrayContaining(['campaignId', 'number', 'leadId', 'source', 'consentedAt']));
  expect(consentBody.properties.consentedAt).toMatchObject({ type: 'string', format: 'date-time' });
  expect(consent.get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['campaignId', 'number', 'includeRevoked', 'limit', 'cursor']));
  expect(doc.paths['/v1/consents/{id}'].delete.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
  expect(Object.keys(consentBody.properties)).toEqual(expect.arrayContaining(['expiresAt', 'certificate', 'text', 'ip']));
  expect(consentBody.properties.certificate.properties.kind.enum).toEqual(['trustedform', 'jornaya']);
  const revocation = doc.paths['/v1/consent-revocations'].post.requestBody.content['application/json'].schema;
  expect(revocation.required).toEqual(['number']);
  expect(revocation.properties.channel.enum).toEqual(['api', 'phone', 'sms', 'email', 'web', 'mail', 'in_person', 'other']);

  const blocks = doc.paths['/v1/fraud/blocks'];
  expect(Object.keys(blocks).sort()).toEqual(['get', 'post']);
  expect(blocks.post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['number', 'reason']));
  expect(blocks.get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor']));
  expect(Object.keys(doc.paths['/v1/fraud/blocks/{number}']).sort()).toEqual(['delete', 'get']);
  expect(blocks.post.description).toMatch(/^Roles: admin\./);
});

it('documents the constraints the API enforces', async () => {
  const listLimit = doc.paths['/v1/calls'].get.parameters.find((p: any) => p.name === 'limit');
  expect(listLimit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } });
  expect(doc.paths['/v1/calls/{id}'].get.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
  const dncBody = doc.paths['/v1/dnc'].post.requestBody.content['application/json'].schema;
  expect(dncBody.required).toEqual(expect.arrayContaining(['list', 'number']));
  expect(dncBody.properties.list.pattern).toBe('^(global|registry|campaign:[A-Za-z0-9_-]{1,100}|seller:[A-Za-z0-9_-]{1,100})$');
  expect(doc.paths['/v1/dnc/imports'].post.requestBody.content).toHaveProperty('text/csv');
  expect(doc.paths['/v1/settlements'].post.requestBody.content['application/json'].schema.properties.from).toMatchObject({ type: 'string', format: 'date-time' });

  // What the document says about `limit` is what the API does.
  const key = (await createApiKey(infra.pool, { role: 'admin' })).key;
  const over = await fetch(`http://127.0.0.1:${node.httpPort}/v1/calls?limit=${listLimit.schema.maximum + 1}`, { headers: { authorization: `Bearer ${key}` } });
  expect(over.status).toBe(400);
  const at = await fetch(`http://127.0.0.1:${node.httpPort}/v1/calls?limit=${listLimit.schema.maximum}`, { headers: { authorization: `Bearer ${key}` } });
  expect(at.status).toBe(200);
});
