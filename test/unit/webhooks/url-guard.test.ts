import { describe, expect, it } from 'vitest';
import { blockedAddressReason, parseIPv4, parseIPv6 } from '../../../src/domains/webhooks/ip-ranges.js';
import { checkWebhookUrl, isAllowedHost, type GuardPolicy, type ResolvedAddress } from '../../../src/domains/webhooks/url-guard.js';

const resolving =
  (answers: Record<string, string[]>) =>
  async (host: string): Promise<ResolvedAddress[]> => {
    const found = answers[host];
    if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const noDns = async (): Promise<ResolvedAddress[]> => {
  throw new Error('IP literals must never be resolved');
};

const policy = (overrides: Partial<GuardPolicy> = {}): GuardPolicy => ({
  production: true,
  allowPrivateTargets: false,
  allowlist: [],
  resolve: noDns,
  ...overrides,
});

describe('address parsing', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::8:800:200c:417a', [0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a]],
    ['2001:DB8:0:0:8:800:200C:417A', [0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a]],
    ['::ffff:127.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['::ffff:7f00:1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['0:0:0:0:0:ffff:10.1.2.3', [0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]],
    ['64:ff9b::192.0.2.33', [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]],
    ['::1.2.3.4', [0, 0, 0, 0, 0, 0, 0x0102, 0x0304]],
  ])('IPv6 %s', (text, groups) => {
    expect(parseIPv6(text)).toEqual(groups);
  });

  it.each(['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', '::g', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::', '::1.2.3', '1.2.3.4'])(
    'not IPv6: %j',
    (text) => {
      expect(parseIPv6(text)).toBeUndefined();
    },
  );

  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '0x7f.0.0.1', ''])('not IPv4: %j', (text) => {
    expect(parseIPv4(text)).toBeUndefined();
  });
});

describe('blocked address ranges (OPERATIONS.md §12.1)', () => {
  it.each([
    // IPv4 table, first / inner / last addresses of each range
    ['0.0.0.0', 'this network'],
    ['0.255.255.255', 'this network'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.0', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.255', 'documentation'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.0.1', 'private'],
    ['198.18.0.0', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    // IPv6: everything outside 2000::/3
    ['::', 'not global unicast'],
    ['::1', 'not global unicast'],
    ['::127.0.0.1', 'not global unicast'],
    ['::8.8.8.8', 'not global unicast'], // IPv4-compatible, not IPv4-mapped: not the verdict of 8.8.8.8
    ['fc00::1', 'not global unicast'],
    ['fdff:ffff::1', 'not global unicast'],
    ['fe80::1', 'not global unicast'],
    ['febf:ffff::1', 'not global unicast'],
    ['fec0::1', 'not global unicast'],
    ['ff02::1', 'not global unicast'],
    ['100::1', 'not global unicast'],
    ['64:ff9b:1::1', 'not global unicast'],
    ['4000::1', 'not global unicast'],
    ['5f00::1', 'not global unicast'],
    // IPv6: blocked parts of 2000::/3
    ['2001::1', 'IETF protocol assignments'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'IETF protocol assignments'],
    ['2001:2::1', 'IETF protocol assignments'],
    ['2001:1ff:ffff::1', 'IETF protocol assignments'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['3fff:fff:ffff::1', 'documentation'],
    ['2002:c000:204::1', '6to4'],
    // embedded IPv4, dotted and hex forms
    ['::ffff:127.0.0.1', 'embedded IPv4 loopback'],
    ['::ffff:7f00:1', 'embedded IPv4 loopback'],
    ['::ffff:a9fe:a9fe', 'embedded IPv4 link-local'],
    ['0:0:0:0:0:ffff:0a00:0001', 'embedded IPv4 private'],
    ['64:ff9b::7f00:1', 'embedded IPv4 loopback'],
    ['64:ff9b::10.0.0.1', 'embedded IPv4 private'],
    // unparseable
    ['localhost', 'unparseable address'],
    ['1.2.3', 'unparseable address'],
    ['fe80::1%eth0', 'unparseable address'],
  ])('%s is blocked (%s)', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.1',
    '192.0.3.0',
    '192.88.98.255',
    '198.17.255.255',
    '198.20.0.0',
    '203.0.114.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2001:200::1',
    '2003::1',
    '3ffe::1',
    '3fff:1000::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
  ])('%s is allowed', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    ['http://127.0.0.1/hook', 'loopback'],
    ['https://[::1]/hook', 'not global unicast'],
    ['https://[::ffff:127.0.0.1]/', 'embedded IPv4 loopback'],
    ['https://[::ffff:7f00:1]/', 'embedded IPv4 loopback'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'embedded IPv4 link-local'],
    ['https://0x7f.0.0.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://[fe80::1]/', 'not global unicast'],
  ])('rejects the IP literal %s without resolving', async (url, reason) => {
    const verdict = await checkWebhookUrl(url, policy({ production: false }));
    expect(verdict).toEqual({ ok: false, kind: 'forbidden', reason: expect.stringContaining(reason) });
  });

  it('rejects a hostname that resolves to a private address', async () => {
    const resolve = resolving({ 'internal.example.com': ['10.0.0.5'] });
    const verdict = await checkWebhookUrl('https://internal.example.com/hook', policy({ resolve }));
    expect(verdict).toEqual({ ok: false, kind: 'forbidden', reason: '10.0.0.5 is private' });
  });

  it('requires every resolved address to pass', async () => {
    const resolve = resolving({ 'mixed.example.com': ['93.184.216.34', '2001:db8::1'] });
    const verdict = await checkWebhookUrl('https://mixed.example.com/', policy({ resolve }));
    expect(verdict).toMatchObject({ ok: false, kind: 'forbidden', reason: '2001:db8::1 is documentation' });
  });

  it('rejects a name without addresses, and reports DNS failures as retryable', async () => {
    const resolve = resolving({ 'empty.example.com': [] });
    expect(await checkWebhookUrl('https://empty.example.com/', policy({ resolve }))).toEqual({ ok: false, kind: 'forbidden', reason: 'no address' });
    expect(await checkWebhookUrl('https://missing.example.com/', policy({ resolve }))).toEqual({ ok: false, kind: 'dns', reason: 'dns: ENOTFOUND' });
  });

  it('accepts a public name and pins the first checked address', async () => {
    const resolve = resolving({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    const verdict = await checkWebhookUrl('https://hooks.example.com:8443/aitp?x=1', policy({ resolve }));
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.address).toEqual({ address: '93.184.216.34', family: 4 });
    expect(verdict.url.hostname).toBe('hooks.example.com');
  });

  it.each([
    ['hooks/aitp', 'not an absolute URL'],
    ['ftp://hooks.example.com/', 'scheme ftp: not allowed'],
    ['javascript:alert(1)', 'scheme javascript: not allowed'],
    ['http://hooks.example.com/', 'scheme http: not allowed'],
    ['https://user:pw@hooks.example.com/', 'userinfo not allowed'],
    ['https://user@hooks.example.com/', 'userinfo not allowed'],
    [`https://hooks.example.com/${'a'.repeat(2030)}`, 'longer than 2048 characters'],
  ])('rejects %s in production', async (url, reason) => {
    const verdict = await checkWebhookUrl(url, policy({ resolve: resolving({ 'hooks.example.com': ['93.184.216.34'] }) }));
    expect(verdict).toEqual({ ok: false, kind: 'forbidden', reason });
  });

  it('allows http outside production only (Ruling 8)', async () => {
    const resolve = resolving({ 'hooks.example.com': ['93.184.216.34'] });
    expect((await checkWebhookUrl('http://hooks.example.com/', policy({ production: false, resolve }))).ok).toBe(true);
    expect((await checkWebhookUrl('http://hooks.example.com/', policy({ production: true, resolve }))).ok).toBe(false);
  });

  it('WEBHOOK_ALLOW_PRIVATE_TARGETS skips only the address-range checks', async () => {
    const open = policy({ production: false, allowPrivateTargets: true, resolve: resolving({ localhost: ['127.0.0.1'] }) });
    expect(await checkWebhookUrl('http://127.0.0.1:8080/hook', open)).toMatchObject({ ok: true, address: { address: '127.0.0.1', family: 4 } });
    expect(await checkWebhookUrl('http://[::1]:8080/hook', open)).toMatchObject({ ok: true, address: { address: '::1', family: 6 } });
    expect(await checkWebhookUrl('http://localhost/hook', open)).toMatchObject({ ok: true, address: { address: '127.0.0.1' } });
    expect(await checkWebhookUrl('https://u:p@127.0.0.1/', open)).toMatchObject({ ok: false, reason: 'userinfo not allowed' });
    expect(await checkWebhookUrl('http://nowhere.invalid/', open)).toMatchObject({ ok: false, kind: 'dns' });
  });

  it('applies WEBHOOK_URL_ALLOWLIST (exact hosts and .suffix entries)', async () => {
    const allowlist = ['.example.com', 'hooks.other.org'];
    expect(isAllowedHost('example.com', allowlist)).toBe(true);
    expect(isAllowedHost('a.b.example.com', allowlist)).toBe(true);
    expect(isAllowedHost('a.example.com.', allowlist)).toBe(true);
    expect(isAllowedHost('badexample.com', allowlist)).toBe(false);
    expect(isAllowedHost('hooks.other.org', allowlist)).toBe(true);
    expect(isAllowedHost('x.hooks.other.org', allowlist)).toBe(false);
    expect(isAllowedHost('anything.net', [])).toBe(true);
    const resolve = resolving({ 'evil.net': ['93.184.216.34'] });
    expect(await checkWebhookUrl('https://evil.net/', policy({ allowlist, resolve }))).toEqual({
      ok: false,
      kind: 'forbidden',
      reason: 'host not in WEBHOOK_URL_ALLOWLIST',
    });
  });
});
