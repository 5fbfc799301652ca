/**
 * The address a request comes from: its peer's, or, when the peer is a trusted proxy
 * (`listen.realIpFrom`, as nginx's `set_real_ip_from` with `real_ip_recursive on`), the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left of it
 * were written by whoever sent the request, so they are never believed.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { type DownstreamRequest, header } from './http-types.ts';

/** Forwarded hops looked at, at most (from the right). */
const MAX_FORWARDED_HOPS = 32;

/** An IP address, or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
export const CidrSchema = z
  .string()
  .refine((value) => parseCidr(value) !== undefined, 'an IP address or a CIDR block');

export type ClientAddressOf = (req: DownstreamRequest) => string;

/** Reads a request's client address, trusting the proxies in `realIpFrom` (CIDR blocks). */
export function clientAddressOf(realIpFrom: readonly string[]): ClientAddressOf {
  if (realIpFrom.length === 0) return peerOf;
  const trusted = new BlockList();
  for (const block of realIpFrom) {
    const cidr = parseCidr(block);
    if (cidr !== undefined) trusted.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (req) => {
    const peer = peerOf(req);
    const forwarded = isTrusted(peer) ? header(req.headers, 'x-forwarded-for') : undefined;
    return forwarded === undefined ? peer : rightmostUntrusted(forwarded, peer, isTrusted);
  };
}

function peerOf(req: DownstreamRequest): string {
  return req.socket?.remoteAddress ?? 'unknown';
}

/** Walks the hops from the right; a malformed one ends the walk at the hop before it. */
function rightmostUntrusted(
  forwarded: string,
  peer: string,
  isTrusted: (address: string) => boolean,
): string {
  const hops = forwarded.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= Math.max(0, hops.length - MAX_FORWARDED_HOPS); i--) {
    const hop = (hops[i] ?? '').trim();
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!isTrusted(hop)) return hop;
  }
  return client;
}

function parseCidr(
  value: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = value.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || prefixText === '')
    return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}
