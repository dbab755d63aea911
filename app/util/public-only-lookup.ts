/**
 * A dns.lookup for HTTP agents that fails when a name resolves to an address that is not public, so a buyer's RTB
 * endpoint or a webhook URL cannot reach the exchange's own network through DNS (or DNS rebinding): the check runs
 * on the addresses the connection really uses. Literal IPs skip the lookup: callers check them with isPrivateHost.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from '../domain/address-scope';

export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) return callback(Object.assign(new Error(`${hostname} resolves to ${bad?.address ?? 'nothing'}, not a public address`), { code: 'ENOTPUBLIC' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};
