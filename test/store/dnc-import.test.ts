import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { importDnc } from '../../app/store/dnc-import';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, type TestInfra } from '../support/infra';

/**
 * The import splits lines itself (readline's async iterator cost a promise per line): it must count lines
 * exactly as readline does, whatever the line breaks and however the upload is cut into chunks.
 */
let infra: TestInfra;
beforeAll(async () => {
  infra = await createTestInfra('dnc_import');
});
afterAll(async () => infra?.cleanup());

/** What readline makes of the same bytes: the oracle. */
async function readlineLines(bytes: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const line of createInterface({ input: Readable.from([bytes]), crlfDelay: Infinity })) out.push(line);
  return out;
}

/** The bytes cut at every `step` bytes, so breaks (\r|\n) and multi-byte characters fall across chunks. */
const chunked = (bytes: Buffer, step: number): Readable => {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step) parts.push(bytes.subarray(i, i + step));
  return Readable.from(parts);
};

const inputs: Array<[string, string]> = [
  ['LF with a header and a bad line', 'phone\n+13035550100\nnot-a-number\n3035550101\n'],
  ['CRLF, no final break', '+13035550102\r\n+13035550103\r\nbad\r\n+13035550104'],
  ['a lone CR, blank lines, a final CR', '+13035550105\r+13035550106\n\n\r\nbäd ü\r'],
  ['quoted CSV with names', '"+1 (303) 555-0107",Zoë\n"3035550108",Ann\n'],
];

it.each(inputs)('%s: lines, accepted and rejected line numbers as readline counts them, in any chunking', async (_name, text) => {
  const bytes = Buffer.from(text, 'utf8');
  const expectedLines = (await readlineLines(bytes)).length;
  let first: { lines: number; accepted: number; rejected: number; samples: number[] } | undefined;
  for (const step of [1, 2, 3, 7, bytes.length]) {
    const s = await importDnc({ pool: infra.pool, redis: infra.redis, log: silentLogger() }, { listId: 'registry', source: `chunks-${step}`, input: chunked(bytes, step) });
    expect(s.status).toBe('done');
    expect(s.lines).toBe(expectedLines);
    const got = { lines: s.lines, accepted: s.accepted, rejected: s.rejected, samples: s.rejectedSamples.map((r) => r.line) };
    first ??= got;
    expect(got).toEqual(first);
  }
});

it('numbers split across chunks land whole in Postgres and Redis', async () => {
  const numbers = Array.from({ length: 500 }, (_, i) => `+1415555${String(1000 + i)}`);
  const s = await importDnc({ pool: infra.pool, redis: infra.redis, log: silentLogger() }, { listId: 'global', source: 'split', input: chunked(Buffer.from(numbers.join('\r\n')), 5) });
  expect(s).toMatchObject({ status: 'done', lines: 500, accepted: 500, rejected: 0, written: 500 });
  const { rows } = await infra.pool.query("SELECT number FROM dnc_entries WHERE list_id = 'global' ORDER BY number");
  expect(rows.map((r) => r.number)).toEqual([...numbers].sort());
});
