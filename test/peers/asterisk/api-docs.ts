/**
 * The Swagger 1.1 API description ari-client builds its client from: `resources.json` and the 11 declarations it
 * lists, byte-exact as Asterisk 22.10.1 serves them (test/fixtures/asterisk/api-docs/), except `basePath`, which
 * Asterisk builds from the request's Host header.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DOCS_DIR = join(__dirname, '..', '..', 'fixtures', 'asterisk', 'api-docs');
const RECORDED_BASE = '"basePath":"http://127.0.0.1:8088/ari"';

export class ApiDocs {
  private readonly files = new Map<string, string>();

  constructor(dir: string = DOCS_DIR) {
    for (const name of readdirSync(dir)) if (name.endsWith('.json')) this.files.set(name, readFileSync(join(dir, name), 'utf8'));
  }

  /** The document for `name` (e.g. `channels.json`) as served to a client that connected to `host`. */
  get(name: string, host: string): string | undefined {
    const text = this.files.get(name);
    if (text === undefined) return undefined;
    return text.replace(RECORDED_BASE, `"basePath":${JSON.stringify(`http://${host}/ari`)}`);
  }
}
