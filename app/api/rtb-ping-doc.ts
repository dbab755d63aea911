/**
 * The outbound RTB ping (issue 15) as an OpenAPI 3.1 webhook: the request the exchange sends to a buyer target's
 * `rtbUrl` at each call, and the answers it accepts (the answer schema is the one that validates them).
 */
import { z } from 'zod';
import { RtbAnswer } from '../domain/rtb';

const RtbPing = z.object({
  callId: z.string().describe('the exchange\'s id of the call; the same in every ping of the call'),
  campaignId: z.string(),
  targetId: z.string().describe('the buyer target pinged (its rtbUrl)'),
  tmax: z.number().int().describe('milliseconds to answer in, from when the ping was sent (the campaign\'s bidDeadlineMs); later answers are ignored'),
  call: z.object({
    areaCode: z.string().optional(),
    callerHash: z.string().optional().describe('hex sha256 of RTB_CALLER_HASH_SALT + ":" + the caller\'s E.164 number'),
    states: z.array(z.string()).optional().describe('every state the caller may be in'),
    zip: z.string().optional(),
    localTime: z.string().optional().describe('the caller\'s wall-clock time, YYYY-MM-DDTHH:MM'),
    timeZone: z.string().optional(),
    attestation: z.enum(['A', 'B', 'C']).optional(),
    repeatCaller: z.boolean().optional().describe('the caller called this campaign before, within RTB_REPEAT_WINDOW_DAYS'),
  }).describe('only the facts the campaign shares (its rtbShare); any may be absent'),
});

const PING_EXAMPLE = {
  callId: '6f1c2d0e-5b7a-4a53-9a1e-2f0c8d1e4b77',
  campaignId: 'auto-insurance',
  targetId: 'acme-rtb',
  tmax: 150,
  call: { areaCode: '312', states: ['IL'], zip: '60601', localTime: '2026-11-24T10:00', timeZone: 'America/Chicago', attestation: 'A', repeatCaller: false },
};

export function rtbPingWebhook(): Record<string, unknown> {
  const schema = (s: z.ZodType) => {
    const out = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete out.$schema;
    return out;
  };
  return {
    post: {
      summary: 'RTB ping: the exchange asks a buyer target\'s rtbUrl for a bid on a call (see README "Real-time bidding")',
      description: 'Sent to every eligible RTB target of the campaign at once, with keep-alive connections. Answer within tmax ms. A bid is dropped (bid_invalid in the decision trace) when bidCents is outside the target\'s rtbMinBidCents/rtbMaxBidCents or the destination is not a plain SIP URI or phone number; a non-2xx or non-JSON answer is bid_error. bench/rtb-buyer.ts is a sample buyer server.',
      requestBody: { required: true, content: { 'application/json': { schema: schema(RtbPing), example: PING_EXAMPLE } } },
      responses: {
        '200': { description: 'a bid (bidCents > 0) or no bid (bidCents 0)', content: { 'application/json': { schema: schema(RtbAnswer), example: { bidCents: 1500, destination: 'sip:agent7@calls.buyer.example', expiresInSeconds: 30 } } } },
        '204': { description: 'no bid' },
      },
    },
  };
}
