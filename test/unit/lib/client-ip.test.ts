import { describe, expect, it } from 'vitest';
import { ipRateLimitKey, parseIp, resolveClientIp, type ClientIpSettings } from '../../../src/lib/client-ip.js';

describe('parseIp', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['  203.0.113.9  ', '203.0.113.9'],
    ['203.0.113.9:4711', '203.0.113.9'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25en0]:8080', 'fe80::1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['[::ffff:192.0.2.1]:80', '192.0.2.1'],
    ['::1', '::1'],
    ['::', '::'],
    ['1::', '1::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest zero run is compressed
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'], // a tie compresses the first
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'], // a single zero group stays
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], // embedded IPv4 that is not IPv4-mapped
    ['::ffff:0:c000:201', '::ffff:0:c000:201'], // IPv4-translated, not mapped
    ['::1.2.3.4', '::102:304'], // IPv4-compatible, not mapped
    ['2001:db8::', '2001:db8::'],
  ])('%j → %j', (raw, expected) => {
    expect(parseIp(raw)).toBe(expected);
  });

  it.each([
    [undefined],
    [''],
    ['unknown'],
    ['_hidden'],
    ['203.0.113.256'],
    ['01.2.3.4'],
    ['203.0.113.9:port'],
    ['[203.0.113.9]:80'],
    ['203.0.113.9%eth0'],
    ['2001:db8::1:443]'],
    ['"203.0.113.9"'],
    ['203.0.113.9, 198.51.100.1'],
  ])('%j is not an address', (raw) => {
    expect(parseIp(raw)).toBeUndefined();
  });
});

describe('ipRateLimitKey', () => {
  it('keys IPv4 by the address and IPv6 by its /64', () => {
    expect(ipRateLimitKey('203.0.113.9')).toBe('203.0.113.9');
    expect(ipRateLimitKey('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(ipRateLimitKey('2001:db8:aa:bb::ffff')).toBe(ipRateLimitKey('2001:db8:aa:bb:1:2:3:4'));
    expect(ipRateLimitKey('2001:db8:aa:bc::1')).not.toBe(ipRateLimitKey('2001:db8:aa:bb::1'));
    expect(ipRateLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(ipRateLimitKey('64:ff9b::c000:221')).toBe('64:ff9b:0:0::/64');
  });

  it('shares no state between calls (the parser reuses one buffer)', () => {
    expect(parseIp('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(parseIp('::2')).toBe('::2');
    expect(ipRateLimitKey('ffff:eeee:dddd:cccc:1:2:3:4')).toBe('ffff:eeee:dddd:cccc::/64');
    expect(ipRateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
  });
});

describe('resolveClientIp (OPERATIONS.md §8)', () => {
  const socket = '10.0.0.5';
  const none: ClientIpSettings = { header: undefined, hops: 0 };
  const cf: ClientIpSettings = { header: 'cf-connecting-ip', hops: 0 };
  const hops = (n: number): ClientIpSettings => ({ header: undefined, hops: n });

  it.each([
    // [case, settings, headers, socket address, expected]
    ['no settings: the socket address', none, {}, socket, socket],
    ['no settings: X-Forwarded-For is ignored', none, { 'x-forwarded-for': '198.51.100.1' }, socket, socket],
    ['X-Real-IP is never read', none, { 'x-real-ip': '198.51.100.1' }, socket, socket],
    ['Forwarded is never read', hops(1), { forwarded: 'for=198.51.100.1' }, socket, socket],
    ['IPv4-mapped socket address folds to IPv4', none, {}, '::ffff:10.0.0.5', socket],
    ['IPv6 socket address', none, {}, '2001:db8::7', '2001:db8::7'],
    ['trusted header wins', cf, { 'cf-connecting-ip': '198.51.100.1', 'x-forwarded-for': '192.0.2.1' }, socket, '198.51.100.1'],
    ['trusted header: first comma element', cf, { 'cf-connecting-ip': '198.51.100.1, 192.0.2.1' }, socket, '198.51.100.1'],
    ['trusted header: port stripped', cf, { 'cf-connecting-ip': '198.51.100.1:5555' }, socket, '198.51.100.1'],
    ['trusted header: [v6]:port', cf, { 'cf-connecting-ip': '[2001:db8::9]:5555' }, socket, '2001:db8::9'],
    ['trusted header: repeated, first one', cf, { 'cf-connecting-ip': ['198.51.100.1', '192.0.2.1'] }, socket, '198.51.100.1'],
    ['trusted header: not an IP → socket', cf, { 'cf-connecting-ip': 'unknown' }, socket, socket],
    ['trusted header: first element not an IP → socket', cf, { 'cf-connecting-ip': 'x, 198.51.100.1' }, socket, socket],
    ['trusted header absent → socket', cf, {}, socket, socket],
    ['trusted header absent → hops apply', { header: 'cf-connecting-ip', hops: 1 }, { 'x-forwarded-for': '198.51.100.1' }, socket, '198.51.100.1'],
    ['trusted header unparseable → hops apply', { header: 'cf-connecting-ip', hops: 1 }, { 'cf-connecting-ip': 'garbage', 'x-forwarded-for': '198.51.100.1' }, socket, '198.51.100.1'],
    ['hops=1: right-most XFF entry', hops(1), { 'x-forwarded-for': '192.0.2.66, 198.51.100.1' }, socket, '198.51.100.1'],
    ['hops=2: second from the right', hops(2), { 'x-forwarded-for': '192.0.2.66, 198.51.100.1, 203.0.113.4' }, socket, '198.51.100.1'],
    ['hops=1: spoofed left entries do not matter', hops(1), { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 198.51.100.1' }, socket, '198.51.100.1'],
    ['hops: entries trimmed, empties dropped', hops(2), { 'x-forwarded-for': ' 198.51.100.1 ,, , 203.0.113.4 ,' }, socket, '198.51.100.1'],
    ['hops: repeated headers are joined in order', hops(2), { 'x-forwarded-for': ['198.51.100.1', '203.0.113.4'] }, socket, '198.51.100.1'],
    ['hops: fewer hops than configured → socket', hops(3), { 'x-forwarded-for': '198.51.100.1, 203.0.113.4' }, socket, socket],
    ['hops: exactly enough entries', hops(2), { 'x-forwarded-for': '198.51.100.1, 203.0.113.4' }, socket, '198.51.100.1'],
    ['hops: no XFF at all → socket', hops(1), {}, socket, socket],
    ['hops: selected entry not an IP → socket', hops(1), { 'x-forwarded-for': '198.51.100.1, unknown' }, socket, socket],
    ['hops: selected entry a.b.c.d:port', hops(1), { 'x-forwarded-for': '198.51.100.1:1234' }, socket, '198.51.100.1'],
    ['hops: selected entry [v6]:port', hops(1), { 'x-forwarded-for': '[2001:db8::5]:1234' }, socket, '2001:db8::5'],
    ['hops: selected entry IPv4-mapped', hops(1), { 'x-forwarded-for': '::ffff:198.51.100.1' }, socket, '198.51.100.1'],
    ['hops: selected entry with a zone id', hops(1), { 'x-forwarded-for': 'fe80::1%eth0' }, socket, 'fe80::1'],
    ['hops=0 with CLIENT_IP_HEADER absent: XFF ignored', { header: 'cf-connecting-ip', hops: 0 }, { 'x-forwarded-for': '198.51.100.1' }, socket, socket],
  ] as const)('%s', (_case, settings, headers, socketAddress, expected) => {
    expect(resolveClientIp(settings, headers as Record<string, string | string[]>, socketAddress)).toBe(expected);
  });

  it('has no shared `unknown` key: a socket without an address resolves to ""', () => {
    expect(resolveClientIp(none, {}, undefined)).toBe('');
    expect(resolveClientIp(hops(3), { 'x-forwarded-for': '198.51.100.1' }, undefined)).toBe('');
    expect(resolveClientIp(cf, { 'cf-connecting-ip': '198.51.100.1' }, undefined)).toBe('198.51.100.1');
    expect(resolveClientIp(hops(1), { 'x-forwarded-for': '198.51.100.1' }, undefined)).toBe('198.51.100.1');
  });
});
