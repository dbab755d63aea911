/**
 * Whether an IP address is on the public internet: webhook URLs and RTB endpoints are chosen by sellers and buyers,
 * so without this check a customer could make the exchange POST into its own network (loopback, private ranges, link-local and
 * cloud metadata at 169.254.169.254, carrier-grade NAT, unique-local IPv6), including IPv4 written as IPv6.
 * Pure: a fixed list of ranges.
 */
import { BlockList, isIP } from 'node:net';

const NOT_PUBLIC: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['127.0.0.0', 8, 'ipv4'], ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'], ['::1', 128, 'ipv6'], ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'],
];
const blocked = new BlockList();
for (const [net, prefix, family] of NOT_PUBLIC) {
  blocked.addSubnet(net, prefix, family);
  // The same IPv4 range written as an IPv4-mapped IPv6 address (::ffff:127.0.0.1).
  if (family === 'ipv4') blocked.addSubnet(`::ffff:${net}`, 96 + prefix, 'ipv6');
}

/** True for an address on the public internet; false for a private, local or reserved one, or not an address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A URL's host that is certainly not public: a literal address that is not (brackets and the URL parser's
 * hexadecimal form of IPv4-mapped IPv6 included) or a `localhost` name. Any other name is judged on the address it
 * resolves to, when the connection is made (app/util/public-only-lookup.ts).
 */
export function isPrivateHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isIP(h) !== 0 && !isPublicAddress(h);
}
