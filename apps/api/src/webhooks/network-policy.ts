import { lookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8, 127.0.0.1, fd00::/8` → CIDRs; a bare address is a /32 (/128). Throws on junk. */
export function parseCidrList(value: string): Cidr[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const [address = '', prefixText, extra] = part.split('/');
      const version = isIP(address);
      if (version === 0 || extra !== undefined) throw new Error(`not a CIDR: ${part}`);
      const max = version === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max)
        throw new Error(`bad prefix length in ${part}`);
      return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
    });
}

/**
 * Where a webhook must never connect unless allowed: loopback, private, link-local (which
 * holds the cloud metadata endpoints, 169.254.169.254 and fd00:ec2::254 in fc00::/7),
 * shared/CGNAT (Alibaba's metadata at 100.100.100.200), multicast, reserved and documentation
 * ranges. IPv4-mapped IPv6 addresses are matched against the IPv4 ranges by BlockList itself;
 * NAT64, 6to4 and IPv4-compatible forms are unwrapped below.
 */
const REFUSED: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.88.99.0', 24, 'ipv4', 'reserved'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['100::', 64, 'ipv6', 'reserved'],
  ['2001::', 32, 'ipv6', 'reserved (Teredo)'],
  ['2001:10::', 28, 'ipv6', 'reserved'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** An address a webhook may not connect to. */
export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

export class NetworkPolicy {
  private readonly refused = REFUSED.map(([address, prefix, family, why]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, why };
  });
  private readonly allowed = new BlockList();

  constructor(allow: readonly Cidr[] = []) {
    for (const cidr of allow) this.allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }

  static fromConfig(allowList: string): NetworkPolicy {
    return new NetworkPolicy(parseCidrList(allowList));
  }

  /** Why `address` (an IP literal) is refused, or null when a webhook may connect to it. */
  refusal(address: string): string | null {
    const candidates = [address, ...embeddedIpv4(address)];
    for (const candidate of candidates) {
      const family = isIP(candidate) === 4 ? 'ipv4' : 'ipv6';
      if (isIP(candidate) === 0) return 'not an IP address';
      if (this.allowed.check(candidate, family)) return null;
    }
    for (const candidate of candidates) {
      const family = isIP(candidate) === 4 ? 'ipv4' : 'ipv6';
      const hit = this.refused.find((r) => r.list.check(candidate, family));
      if (hit) return `${address} is ${hit.why}`;
    }
    return null;
  }

  /**
   * A `lookup` for http(s) agents: resolves as usual, then drops refused addresses, so the
   * socket only ever connects to an allowed one (the DNS answer, not the URL, decides).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => this.refusal(a.address) === null);
      if (allowed.length === 0) {
        const why = addresses.map((a) => this.refusal(a.address)).join('; ');
        return callback(
          new RefusedAddressError(`${hostname} resolves only to refused addresses (${why})`),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as AllCallback)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

type AllCallback = (err: null, addresses: { address: string; family: number }[]) => void;

/** The IPv4 address inside an IPv6 one (IPv4-compatible, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string[] {
  if (isIP(address) !== 6) return [];
  const words = expandIpv6(address);
  if (!words) return [];
  const v4 = (hi: number, lo: number): string => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  const zeros = (from: number, to: number): boolean => words.slice(from, to).every((w) => w === 0);
  const out: string[] = [];
  if (zeros(0, 6)) out.push(v4(words[6]!, words[7]!)); // ::a.b.c.d
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) out.push(v4(words[6]!, words[7]!));
  if (words[0] === 0x2002) out.push(v4(words[1]!, words[2]!));
  return out;
}

function expandIpv6(address: string): number[] | null {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, -dotted[1]!.length)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  const fill = 8 - first.length - last.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return null;
  return [...first, ...new Array<number>(fill).fill(0), ...last];
}
