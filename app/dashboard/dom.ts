/**
 * Small DOM helpers: an element builder, tables that scroll inside their card on a narrow screen, and forms that
 * check their input, send it, and show the API's error next to the field it names (error.field).
 */
import { ApiError } from './api';

export const $ = <T extends HTMLElement>(selector: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
};

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else if (k.startsWith('data-')) e.dataset[k.slice(5).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function cell(row: HTMLTableRowElement, value: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = value;
  if (className) td.className = className;
  return td;
}

/**
 * Names each cell after its column (data-label), so a narrow screen can show a row as a card of labelled values
 * (style.css) instead of a table wider than the screen.
 */
export function labelCells(t: HTMLTableElement): void {
  const names = [...(t.tHead?.rows[0]?.cells ?? [])].map((c) => c.textContent ?? '');
  for (const body of t.tBodies) for (const tr of body.rows) [...tr.cells].forEach((td, i) => (td.dataset.label = names[i] ?? ''));
}

/** A table inside a container that scrolls sideways when the screen is narrower than the table. */
export function scrollTable(t: HTMLTableElement): HTMLDivElement {
  return h('div', { class: 'scroll' }, t);
}

/** A table of text cells; `classes` names each column's cells (tests and CSS read them). */
export function table(headers: string[], rows: string[][], className: string, classes?: string[]): HTMLTableElement {
  const t = h('table', { class: className });
  const head = t.createTHead().insertRow();
  for (const x of headers) head.append(h('th', {}, x));
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    r.forEach((v, i) => cell(tr, v, classes?.[i]));
  }
  return t;
}

export type FieldKind = 'text' | 'number' | 'money' | 'select' | 'checkbox' | 'list' | 'json' | 'file';

export interface Field {
  name: string;
  label: string;
  kind?: FieldKind;
  options?: Array<[string, string]>;
  required?: boolean;
  placeholder?: string;
  hint?: string;
  value?: string | boolean;
}

/** Dollars typed by a person ("12.5", "$1,250.00") as integer cents, or undefined when it is not an amount. */
export function parseDollars(s: string): number | undefined {
  const m = /^(-)?\s*\$?\s*(\d{1,9}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$/.exec(s.trim());
  if (!m) return undefined;
  const cents = Number(m[2]!.replace(/,/g, '')) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}

/** The form's values as an API body; a field's own error when one cannot be read. */
function readFields(form: HTMLFormElement, fields: Field[]): { body: Record<string, unknown>; errors: Record<string, string> } {
  const body: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const input = form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
    if (!input || f.kind === 'file') continue;
    if (f.kind === 'checkbox') {
      body[f.name] = (input as HTMLInputElement).checked;
      continue;
    }
    const raw = input.value.trim();
    if (raw === '') {
      if (f.required) errors[f.name] = 'required';
      continue;
    }
    switch (f.kind) {
      case 'money': {
        const c = parseDollars(raw);
        if (c === undefined) errors[f.name] = 'an amount in dollars, e.g. 12.50';
        else body[f.name] = c;
        break;
      }
      case 'number':
        if (!/^-?\d+$/.test(raw)) errors[f.name] = 'a whole number';
        else body[f.name] = Number(raw);
        break;
      case 'list':
        body[f.name] = raw.split(/[\s,]+/).filter(Boolean);
        break;
      case 'json':
        try {
          body[f.name] = JSON.parse(raw);
        } catch {
          errors[f.name] = 'not valid JSON';
        }
        break;
      default:
        body[f.name] = raw;
    }
  }
  return { body, errors };
}

export interface FormOptions {
  id: string;
  title: string;
  fields: Field[];
  submit: string;
  /** sends the body; what it returns is shown as the form's success message */
  send: (body: Record<string, unknown>, form: HTMLFormElement) => Promise<string>;
}

/**
 * A form that checks what it can before sending (amounts, numbers, required fields), then shows the API's answer:
 * its error message under the field the error names, or above the button when it names none.
 */
export function form(o: FormOptions): HTMLFormElement {
  const f = h('form', { id: o.id, class: 'form', novalidate: true });
  f.append(h('h3', {}, o.title));
  for (const x of o.fields) {
    const id = `${o.id}-${x.name}`;
    let input: HTMLElement;
    if (x.kind === 'select') {
      const s = h('select', { id, name: x.name });
      for (const [v, label] of x.options ?? []) s.append(h('option', { value: v, selected: x.value === v }, label));
      input = s;
    } else if (x.kind === 'checkbox') {
      input = h('input', { id, name: x.name, type: 'checkbox', checked: x.value === true });
    } else if (x.kind === 'json') {
      input = h('textarea', { id, name: x.name, rows: 3, placeholder: x.placeholder });
      (input as HTMLTextAreaElement).value = typeof x.value === 'string' ? x.value : '';
    } else {
      input = h('input', { id, name: x.name, type: x.kind === 'file' ? 'file' : 'text', inputmode: x.kind === 'money' || x.kind === 'number' ? 'decimal' : undefined, placeholder: x.placeholder, value: typeof x.value === 'string' ? x.value : undefined });
    }
    f.append(h('label', { for: id, class: x.kind === 'checkbox' ? 'check' : undefined }, x.label, x.kind === 'money' ? ' ($)' : '', input, x.hint ? h('small', { class: 'muted' }, x.hint) : null, h('span', { class: 'field-error', 'data-field': x.name, role: 'alert' })));
  }
  const general = h('p', { class: 'error form-error', role: 'alert' });
  const ok = h('p', { class: 'ok form-ok', role: 'status' });
  f.append(general, h('button', { type: 'submit' }, o.submit), ok);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const e of f.querySelectorAll('.field-error')) e.textContent = '';
    general.textContent = '';
    ok.textContent = '';
    const { body, errors } = readFields(f, o.fields);
    if (Object.keys(errors).length) {
      for (const [name, msg] of Object.entries(errors)) showFieldError(f, name, msg, general);
      return;
    }
    const button = $<HTMLButtonElement>('button[type=submit]', f);
    button.disabled = true;
    o.send(body, f)
      .then((msg) => {
        ok.textContent = msg;
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.field) showFieldError(f, err.field, err.message, general);
        else general.textContent = err instanceof Error ? err.message : String(err);
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return f;
}

/** The error under its field (`targeting.states` goes under `targeting`), or the form's when no field matches. */
function showFieldError(f: HTMLFormElement, field: string, message: string, general: HTMLElement): void {
  const name = field.split('.')[0]!;
  const slot = f.querySelector<HTMLElement>(`.field-error[data-field="${CSS.escape(name)}"]`);
  // The API's message starts with the field's name ("bidCents: ..."): next to the field, the rest says it.
  const text = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  if (slot) slot.textContent = text;
  else general.textContent = message;
}
