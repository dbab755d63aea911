/**
 * The console's one way to the API: every request carries the key, every answer is read as the API's resource
 * shape (camelCase, money as integer cents), every error as `{error: {code, message, field?}}`.
 *
 * `resource()` turns a snake_case row with money as text (`"floor_cents": "1000"`) into that shape, so the console
 * reads routes the same whether or not they already answer in it (api-shape converts them; then it changes nothing).
 */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** A value as the resource shape: camelCase keys, `...Cents` amounts as numbers, nested alike. */
export function resource<T = Record<string, unknown>>(v: unknown): T {
  if (Array.isArray(v)) return v.map((x) => resource(x)) as T;
  if (v === null || typeof v !== 'object') return v as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const key = camel(k);
    out[key] = /Cents$/.test(key) && typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : resource(x);
  }
  return out as T;
}

/** A page of a list, whatever the route names its items (`items`, or the resource's plural) and its cursor. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function pageOf<T>(body: Record<string, unknown>): Page<T> {
  const items = (body.items ?? Object.values(body).find(Array.isArray) ?? []) as T[];
  const next = (body.nextCursor ?? body.next ?? null) as string | null;
  return { items, nextCursor: next };
}

export class Api {
  constructor(readonly key: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, ...extra };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string; field?: string } };
    if (!r.ok) throw new ApiError(r.status, json.error?.code ?? 'http_error', json.error?.message ?? `HTTP ${r.status}`, json.error?.field);
    return resource<T>(json);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async list<T>(path: string): Promise<Page<T>> {
    return pageOf<T>(await this.get<Record<string, unknown>>(path));
  }

  /** Every page of a list (the console's lists are small: accounts, campaigns, targets), up to `max` items. */
  async all<T>(path: string, max = 1000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: Page<T> = await this.list<T>(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }

  /** A file from the API (the CSV export), saved by the browser under `name`. */
  async download(path: string, name: string): Promise<void> {
    const r = await fetch(path, { headers: this.headers() });
    if (!r.ok) {
      const json = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string; field?: string } };
      throw new ApiError(r.status, json.error?.code ?? 'http_error', json.error?.message ?? `HTTP ${r.status}`, json.error?.field);
    }
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** A file sent as the request body (a DNC list), reporting the share sent so far (0..1). */
  upload<T>(path: string, file: Blob, contentType: string, onProgress: (sent: number) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('authorization', `Bearer ${this.key}`);
      xhr.setRequestHeader('content-type', contentType);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: the network or the server dropped it'));
      xhr.onload = () => {
        let json: { error?: { code?: string; message?: string; field?: string } } = {};
        try {
          json = JSON.parse(xhr.responseText) as typeof json;
        } catch {
          /* not JSON */
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          resolve(resource<T>(json));
        } else reject(new ApiError(xhr.status, json.error?.code ?? 'http_error', json.error?.message ?? `HTTP ${xhr.status}`, json.error?.field));
      };
      xhr.send(file);
    });
  }
}
