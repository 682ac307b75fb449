import { describe, expect, it } from '@jest/globals';
import { NetworkPolicy, parseCidrList } from './network-policy.js';

describe('NetworkPolicy', () => {
  const strict = new NetworkPolicy();

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.100.100.200', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'unique local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64 of 169.254.169.254
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['::127.0.0.1', 'loopback'],
  ])('refuses %s (%s)', (address, why) => {
    expect(strict.refusal(address)).toContain(why);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('lets %s through', (address) => {
    expect(strict.refusal(address)).toBeNull();
  });

  it('lets an allow-listed private range through, and nothing else', () => {
    const policy = new NetworkPolicy(parseCidrList('127.0.0.0/8, fd00::/8 ,10.1.2.3'));
    expect(policy.refusal('127.0.0.1')).toBeNull();
    expect(policy.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(policy.refusal('fd12::1')).toBeNull();
    expect(policy.refusal('10.1.2.3')).toBeNull();
    expect(policy.refusal('10.1.2.4')).toContain('private');
    expect(policy.refusal('169.254.169.254')).toContain('link-local');
    expect(policy.refusal('::1')).toContain('loopback');
  });

  it('parses CIDR lists and rejects junk', () => {
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList(' 10.0.0.0/8 , ::1 ')).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ]);
    for (const bad of [
      '10.0.0.0/33',
      'localhost',
      '10.0.0.0/8/1',
      '::1/129',
      '10.0.0.0/x',
      '1.2.3/8',
    ])
      expect(() => parseCidrList(bad)).toThrow();
  });

  it('resolves through the lookup hook to allowed addresses only', async () => {
    const resolve = (policy: NetworkPolicy, host: string) =>
      new Promise<unknown>((res) =>
        policy.lookup(host, { all: true }, (err, addresses) => res(err ?? addresses)),
      );
    expect(await resolve(strict, 'localhost')).toMatchObject({
      code: 'EREFUSEDADDRESS',
      message: expect.stringContaining('refused'),
    });
    const open = new NetworkPolicy(parseCidrList('127.0.0.0/8,::1'));
    expect(await resolve(open, 'localhost')).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: '127.0.0.1' })]),
    );
  });
});
