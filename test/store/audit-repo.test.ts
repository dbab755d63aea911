/** changedFields: which money settings a write changed, as the audit trail records them (pure; no database). */
import { changedFields } from '../../app/store/audit-repo';

const FIELDS = { payoutCents: 'payout_cents', routing: 'routing', allowNegativeMargin: 'allow_negative_margin' };

it.each([
  ['nothing changed (bigint as a string from pg)', { payout_cents: '1500', routing: 'first_price', allow_negative_margin: false }, { payout_cents: '1500', routing: 'first_price', allow_negative_margin: false }, []],
  ['one field changed, as numbers', { payout_cents: '1500', routing: 'first_price' }, { payout_cents: '100000000', routing: 'first_price' }, [['payoutCents', 1500, 100_000_000]]],
  ['set to null', { payout_cents: '1500' }, { payout_cents: null }, [['payoutCents', 1500, null]]],
  ['two fields', { routing: 'first_price', allow_negative_margin: false }, { routing: 'second_price', allow_negative_margin: true }, [['routing', 'first_price', 'second_price'], ['allowNegativeMargin', false, true]]],
  ['created: every field that is set, from null', undefined, { payout_cents: '900', routing: 'second_price', allow_negative_margin: null }, [['payoutCents', null, 900], ['routing', null, 'second_price']]],
] as const)('%s', (_name, before, after, expected) => {
  const changes = changedFields('campaign', 'c1', before as Record<string, unknown> | undefined, after as Record<string, unknown>, FIELDS);
  expect(changes.map((c) => [c.field, c.oldValue, c.newValue])).toEqual(expected);
  for (const c of changes) expect([c.entity, c.entityId]).toEqual(['campaign', 'c1']);
});
