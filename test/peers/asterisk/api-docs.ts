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

  /** `eventFilters` false: the description of an Asterisk older than 13.26 / 16.3 (no eventFilter operation). */
  constructor(dir: string = DOCS_DIR, eventFilters = true) {
    for (const name of readdirSync(dir)) if (name.endsWith('.json')) this.files.set(name, readFileSync(join(dir, name), 'utf8'));
    const apps = this.files.get('applications.json');
    if (!eventFilters && apps !== undefined) this.files.set('applications.json', withoutEventFilter(apps));
  }

  /** The document for `name` (e.g. `channels.json`) as served to a client that connected to `host`. */
  get(name: string, host: string): string | undefined {
    const text = this.files.get(name);
    if (text === undefined) return undefined;
    return text.replace(RECORDED_BASE, `"basePath":${JSON.stringify(`http://${host}/ari`)}`);
  }
}

/** applications.json as before 13.26 / 16.3: no eventFilter operation, no filter fields in the Application model. */
function withoutEventFilter(text: string): string {
  const doc = JSON.parse(text) as { apis: Array<{ path: string }>; models: { Application: { properties: Record<string, unknown> } } };
  doc.apis = doc.apis.filter((api) => !api.path.endsWith('/eventFilter'));
  delete doc.models.Application.properties.events_allowed;
  delete doc.models.Application.properties.events_disallowed;
  return JSON.stringify(doc, null, 2);
}
