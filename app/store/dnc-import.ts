/**
 * Bulk DNC import: a CSV (number in the first column) or a plain list, millions of lines, read as a stream.
 * Each line is normalised to E.164; good numbers go to Postgres and Redis in batches (the upload is read no
 * faster than they are written), bad lines are counted and the first ones kept with their line number and why.
 * Progress is kept in Redis (`dnc:import:<id>`), so any node can answer how far an import is.
 */
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { parseCaller } from '../domain/phone';
import { addDncNumbers, type DncListId } from './compliance-repo';

export interface DncImportState {
  id: string;
  /** the DNC list written, or `litigators:<source>` for a litigator list (lists-routes.ts) */
  listId: DncListId | `litigators:${string}`;
  source: string;
  status: 'running' | 'done' | 'failed';
  lines: number;
  /** lines with a valid number (a number listed twice counts twice; the list holds it once) */
  accepted: number;
  /** distinct numbers written to the list so far (Postgres and Redis) */
  written: number;
  rejected: number;
  /** the first rejected lines: line number (1-based), the text (clipped) and why */
  rejectedSamples: Array<{ line: number; text: string; reason: string }>;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

const BATCH = 20_000;
const MAX_WRITES = 3;
const SAMPLES = 100;
const stateKey = (id: string): string => `dnc:import:${id}`;

/** The number on a line: the first CSV field, without quotes; undefined for a header or a blank line. */
function field(line: string): string {
  const comma = line.indexOf(',');
  const first = (comma >= 0 ? line.slice(0, comma) : line).trim();
  return first.startsWith('"') && first.endsWith('"') ? first.slice(1, -1).trim() : first;
}

export async function readDncImport(redis: Redis, id: string): Promise<DncImportState | undefined> {
  const raw = await redis.get(stateKey(id));
  return raw ? (JSON.parse(raw) as DncImportState) : undefined;
}

export async function importDnc(
  deps: { pool: Pool; redis: Redis; log: Logger },
  p: {
    listId: DncImportState['listId'];
    source: string;
    input: Readable;
    id?: string;
    onProgress?: (s: DncImportState) => void;
    /** where a batch of numbers goes; by default the DNC list `listId` (addDncNumbers) */
    write?: (numbers: string[], expectNew: boolean) => Promise<{ hadDuplicates: boolean }>;
  },
): Promise<DncImportState> {
  const writeBatch = p.write ?? ((numbers: string[], expectNew: boolean) => addDncNumbers(deps.pool, deps.redis, p.listId as DncListId, numbers, p.source, { expectNew }));
  const state: DncImportState = {
    id: p.id ?? randomUUID(),
    listId: p.listId,
    source: p.source,
    status: 'running',
    lines: 0,
    accepted: 0,
    written: 0,
    rejected: 0,
    rejectedSamples: [],
    startedAt: new Date().toISOString(),
  };
  const log = deps.log.child({ dncImport: state.id, listId: p.listId });
  const save = async (): Promise<void> => {
    await deps.redis.set(stateKey(state.id), JSON.stringify(state), 'EX', 7 * 86_400);
    p.onProgress?.(state);
  };
  await save();
  let batch = new Set<string>();
  let nextLog = 1_000_000;
  // Up to MAX_WRITES batches are written while the next one is read: reading waits only when all are still going.
  const writing = new Set<Promise<void>>();
  let failure: Error | undefined;
  // Optimistic plain inserts while batches meet no number already listed; after one that did (a re-import of a
  // list already held), batches go straight to ON CONFLICT until one adds every number it carries.
  let expectNew = true;
  const write = async (numbers: string[]): Promise<void> => {
    try {
      const { hadDuplicates } = await writeBatch(numbers, expectNew);
      expectNew = !hadDuplicates;
      state.written += numbers.length;
    } catch (err) {
      failure ??= err as Error;
    }
  };
  const flush = async (): Promise<void> => {
    if (failure) throw failure;
    if (batch.size === 0) return;
    // Sorted, a batch goes into the primary key's btree in order: neighbouring numbers share pages, instead of
    // every insert landing on a random page of a multi-million-row index.
    const w = write([...batch].sort());
    batch = new Set();
    writing.add(w);
    void w.finally(() => writing.delete(w));
    if (writing.size >= MAX_WRITES) await Promise.race(writing);
    if (failure) throw failure;
    await save();
    if (state.lines >= nextLog) {
      log.info({ lines: state.lines, accepted: state.accepted, rejected: state.rejected }, 'DNC import progress');
      nextLog += 1_000_000;
    }
  };
  try {
    // One line: true when the batch is full and must be flushed before reading on.
    const take = (line: string): boolean => {
      state.lines += 1;
      const text = field(line);
      if (text === '') return false;
      const parsed = parseCaller(text);
      if (parsed.ok) {
        state.accepted += 1;
        batch.add(parsed.e164);
        return batch.size >= BATCH;
      }
      // A first line with letters and no number is a header, not a bad line.
      if (state.lines === 1 && /[a-z]/i.test(text) && !/\d/.test(text)) return false;
      state.rejected += 1;
      if (state.rejectedSamples.length < SAMPLES) state.rejectedSamples.push({ line: state.lines, text: text.slice(0, 40), reason: `${parsed.reason}: ${parsed.detail}` });
      return false;
    };
    // Lines are split here rather than by readline's async iterator, which costs a promise per line (a third of
    // the import's CPU at millions of lines). Line breaks as readline counts them: \n, \r\n or a lone \r.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of p.input) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        if (c === 13 && i === text.length - 1) break; // a \r at the end may be half of a \r\n: wait for the next chunk
        const full = take(text.slice(start, i));
        if (c === 13 && text.charCodeAt(i + 1) === 10) i += 1;
        start = i + 1;
        if (full) await flush();
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    if (rest.endsWith('\r')) {
      if (take(rest.slice(0, -1))) await flush();
    } else if (rest !== '' && take(rest)) await flush();
    await flush();
    await Promise.all(writing);
    if (failure) throw failure;
    state.status = 'done';
  } catch (err) {
    await Promise.allSettled(writing);
    state.status = 'failed';
    state.error = (err as Error).message;
    log.error({ err: state.error, lines: state.lines, accepted: state.accepted }, 'DNC import failed; the numbers accepted so far are in');
  }
  state.finishedAt = new Date().toISOString();
  await save();
  log.info({ lines: state.lines, accepted: state.accepted, rejected: state.rejected, status: state.status }, 'DNC import finished');
  return state;
}
