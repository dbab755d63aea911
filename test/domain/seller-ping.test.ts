import { pingIdentity, sellerRejectCode } from '../../app/domain/seller-ping';

describe('sellerRejectCode', () => {
  it.each([
    { reason: 'campaign_inactive', skipped: [], excluded: [], code: 'disabled' },
    { reason: 'unknown_number', skipped: [], excluded: [], code: 'disabled' },
    { reason: 'screened_out', skipped: [], excluded: [], code: 'caller_blocked' },
    // nobody at all, or only targeting, floor and activity in the way
    { reason: 'no_eligible_buyer', skipped: [], excluded: [], code: 'filtered' },
    { reason: 'no_eligible_buyer', skipped: [], excluded: ['geo_state', 'below_floor', 'target_inactive'], code: 'filtered' },
    // shut by hours or a period cap
    { reason: 'no_eligible_buyer', skipped: [], excluded: ['geo_state', 'schedule_closed'], code: 'closed_or_capped' },
    { reason: 'no_eligible_buyer', skipped: ['cap_daily'], excluded: ['geo_zip'], code: 'closed_or_capped' },
    { reason: 'no_eligible_buyer', skipped: ['cap_monthly', 'cap_hourly'], excluded: [], code: 'closed_or_capped' },
    // a buyer would take it but its lines or funds are taken now: the most hopeful reason wins
    { reason: 'no_eligible_buyer', skipped: ['cap_concurrency', 'cap_daily'], excluded: ['schedule_closed'], code: 'no_capacity' },
    { reason: 'no_eligible_buyer', skipped: [null, 'insufficient_funds'], excluded: [], code: 'no_capacity' },
    { reason: 'no_eligible_buyer', skipped: [], excluded: ['insufficient_funds', 'geo_state'], code: 'no_capacity' },
  ])('$reason, skipped $skipped, excluded $excluded: $code', ({ reason, skipped, excluded, code }) => {
    expect(sellerRejectCode({ reason, skipped, excluded })).toBe(code);
  });
});

describe('pingIdentity', () => {
  const base: { sellerAccountId: string; campaignId: string; callerE164: string; tags: Record<string, string> } = { sellerAccountId: 's1', campaignId: 'c1', callerE164: '+13125550100', tags: { source: 'tv', age: '65' } };
  it('is the same for the same seller, campaign, caller and tags, whatever the tags order', () => {
    expect(pingIdentity({ ...base, tags: { age: '65', source: 'tv' } })).toBe(pingIdentity(base));
  });
  it.each<Partial<typeof base>>([
    { sellerAccountId: 's2' }, { campaignId: 'c2' }, { callerE164: '+13125550101' }, { tags: { source: 'tv' } }, { tags: { source: 'tv', age: '66' } },
  ])('differs when one of them differs (%o)', (change) => {
    expect(pingIdentity({ ...base, ...change })).not.toBe(pingIdentity(base));
  });
  it('does not spell out the caller number', () => {
    expect(pingIdentity(base)).not.toContain('5550100');
  });
});
