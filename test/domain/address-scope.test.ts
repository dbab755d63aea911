import { isPrivateHost, isPublicAddress } from '../../app/domain/address-scope';

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true], ['93.184.216.34', true], ['2606:4700:4700::1111', true], ['172.32.0.1', true], ['100.128.0.1', true],
    ['127.0.0.1', false], ['127.255.255.254', false], ['10.1.2.3', false], ['172.16.0.1', false], ['172.31.255.255', false],
    ['192.168.1.1', false], ['169.254.169.254', false], ['100.64.0.1', false], ['0.0.0.0', false], ['224.0.0.1', false],
    ['::1', false], ['::', false], ['fd00::1', false], ['fe80::1', false], ['::ffff:127.0.0.1', false], ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true], ['localhost', false], ['not an address', false],
  ])('%s -> %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('isPrivateHost: an RTB or webhook URL\'s host that is certainly not public', () => {
  it.each([
    ['127.0.0.1', true], ['10.0.0.5', true], ['172.16.0.1', true], ['172.31.255.255', true], ['172.32.0.1', false], ['192.168.1.1', true],
    ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['8.8.8.8', false], ['203.0.113.7', false],
    ['[::1]', true], ['::', true], ['fd00::1', true], ['fe80::1', true], ['2001:db8::1', false], ['::ffff:10.0.0.1', true], ['::ffff:a00:1', true], ['::ffff:808:808', false],
    ['localhost', true], ['api.localhost', true], ['bids.buyer.example', false],
  ] as const)('%s: %s', (host, expected) => {
    expect(isPrivateHost(host)).toBe(expected);
  });
});

