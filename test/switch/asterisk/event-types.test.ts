/**
 * The adapter asks Asterisk only for HANDLED_EVENT_TYPES (eventFilter), so an event type read anywhere in the
 * adapter but missing from that list would silently never arrive. This reads the adapter's sources as the compiler
 * does and collects every type it dispatches on (`switch (ev.type) { case '...' }` and `ev.type === '...'`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { isUnreadEvent } from '../../../app/switch/asterisk/ari-model';
import { HANDLED_EVENT_TYPES } from '../../../app/switch/asterisk/channel-router';
import { eventFilterBody } from '../../../app/switch/asterisk/ari-rest';

const DIR = join(__dirname, '..', '..', '..', 'app', 'switch', 'asterisk');

/** Whether an expression reads an event's type: `<something>.type` on a value typed as an event (`ev`, `event`). */
const isEventType = (e: ts.Expression): boolean => ts.isPropertyAccessExpression(e) && e.name.text === 'type' && /^(ev|event)$/.test(e.expression.getText());

function handledTypes(file: string): Map<string, string> {
  const source = ts.createSourceFile(file, readFileSync(join(DIR, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const found = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isSwitchStatement(node) && isEventType(node.expression)) {
      for (const clause of node.caseBlock.clauses) if (ts.isCaseClause(clause) && ts.isStringLiteral(clause.expression)) found.set(clause.expression.text, file);
    }
    if (ts.isBinaryExpression(node) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(node.operatorToken.kind)) {
      const [a, b] = [node.left, node.right];
      if (isEventType(a) && ts.isStringLiteral(b)) found.set(b.text, file);
      if (isEventType(b) && ts.isStringLiteral(a)) found.set(a.text, file);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('Asterisk adapter: the event types it asks the switch for', () => {
  const handled = new Map<string, string>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) for (const [type, where] of handledTypes(file)) handled.set(type, where);

  it('finds the dispatch in the sources (the scan itself works)', () => {
    expect(handled.get('StasisStart')).toBeDefined();
    expect(handled.get('BridgeDestroyed')).toBe('bridge-pool.ts');
    expect(handled.get('PlaybackFinished')).toBe('call-leg.ts');
    expect(handled.get('ApplicationReplaced')).toBe('adapter.ts');
  });

  it('lists every event type the dispatch handles, and nothing it does not', () => {
    const missing = [...handled].filter(([type]) => !(HANDLED_EVENT_TYPES as readonly string[]).includes(type)).map(([type, file]) => `${type} (${file})`);
    expect(missing).toEqual([]);
    expect([...HANDLED_EVENT_TYPES].sort()).toEqual([...handled.keys()].sort());
  });

  it('drops none of them unparsed when they do come unfiltered', () => {
    expect(HANDLED_EVENT_TYPES.filter((type) => isUnreadEvent(JSON.stringify({ type })))).toEqual([]);
  });

  it('asks for them as the api-docs say: allowed `{type}` objects, and no disallowed type', () => {
    expect(eventFilterBody(['StasisStart', 'Dial'])).toEqual({ allowed: [{ type: 'StasisStart' }, { type: 'Dial' }], disallowed: [] });
  });
});
