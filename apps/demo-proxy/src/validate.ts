/**
 * Checks on a downstream request's headers, each returning the HTTP answer it deserves (or
 * undefined when the request passes). Pure functions: no I/O.
 */
import { isIP } from 'node:net';
import { BoundedMap } from '@mcp/connection-core';

export interface Rejection {
  status: number;
  message: string;
  /** A JSON-RPC error code for the body, when one fits. */
  rpcCode?: number;
  headers?: Record<string, string>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True when `host` (a listen address) only accepts local connections. */
export function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** Strips the port from a Host header value: `a:80` -> `a`, `[::1]:80` -> `[::1]`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * A request names exactly one host: one Host header on HTTP/1.x (HTTP/1.0 may omit it, and a
 * duplicate could be read differently by the next hop); on HTTP/2, `:authority` or Host, and a
 * Host beside `:authority` naming the same (RFC 9113, 8.3.1). Else 400.
 */
export function checkHostHeader(
  httpVersionMajor: number,
  rawHeaders: readonly string[],
): Rejection | undefined {
  const hosts: string[] = [];
  let authority: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === 'host') hosts.push(rawHeaders[i + 1] as string);
    else if (name === ':authority') authority = rawHeaders[i + 1];
  }
  const bad = (why: string): Rejection => ({ status: 400, message: `Bad Request: ${why}` });
  if (hosts.length > 1) return bad('more than one Host header');
  if (httpVersionMajor >= 2) {
    if (authority === undefined && hosts.length === 0) return bad(':authority or Host required');
    if (
      authority !== undefined &&
      hosts.length === 1 &&
      hosts[0]?.toLowerCase() !== authority.toLowerCase()
    )
      return bad('Host differs from :authority');
    return undefined;
  }
  return hosts.length === 0 ? bad('Host header required') : undefined;
}

export interface RebindingPolicy {
  /** Enforce only when the proxy listens on loopback. */
  enabled: boolean;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}

/**
 * DNS rebinding guard (MCP transports, security warning): a loopback-bound proxy answers only
 * requests naming a loopback host (or an allowed one); an Origin header, when present, must be
 * a loopback origin or an allowed one, else 403.
 */
export function checkRebinding(
  policy: RebindingPolicy,
  host: string | undefined,
  origin: string | undefined,
): Rejection | undefined {
  if (!policy.enabled) return undefined;
  if (host !== undefined) {
    const name = hostName(host);
    if (!LOOPBACK_NAMES.has(name) && !policy.allowedHosts.includes(name)) {
      return { status: 403, message: 'Forbidden: Host header not allowed' };
    }
  }
  if (origin !== undefined && !policy.allowedOrigins.includes(origin)) {
    let originHost: string;
    try {
      originHost = new URL(origin).hostname;
    } catch {
      return { status: 403, message: 'Forbidden: invalid Origin header' };
    }
    if (!LOOPBACK_NAMES.has(originHost)) {
      return { status: 403, message: 'Forbidden: Origin not allowed' };
    }
  }
  return undefined;
}

interface MediaRange {
  type: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    return { type: type.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0 };
  });
}

function accepts(ranges: readonly MediaRange[], type: string): boolean {
  const [major] = type.split('/');
  return ranges.some(
    (r) => r.q > 0 && (r.type === type || r.type === '*/*' || r.type === `${major}/*`),
  );
}

export interface AcceptedFormats {
  readonly json: boolean;
  readonly sse: boolean;
}

const ANY_FORMAT: AcceptedFormats = { json: true, sse: true };
/**
 * A client sends the same Accept header on every request: its formats are parsed once. Bounded,
 * since the header is the client's to choose.
 */
const formatsByAccept = new BoundedMap<string, AcceptedFormats>(64);

/** What the client accepts. A missing Accept header accepts anything. */
export function acceptedFormats(accept: string | undefined): AcceptedFormats {
  if (accept === undefined) return ANY_FORMAT;
  let formats = formatsByAccept.get(accept);
  if (formats === undefined) {
    formats = parseFormats(accept);
    formatsByAccept.set(accept, formats);
  }
  return formats;
}

function parseFormats(accept: string): AcceptedFormats {
  if (accept.trim() === '') return ANY_FORMAT;
  const ranges = parseAccept(accept);
  return { json: accepts(ranges, 'application/json'), sse: accepts(ranges, 'text/event-stream') };
}

/** POST needs JSON or SSE acceptable; GET needs SSE. */
export function checkAccept(
  formats: AcceptedFormats,
  method: 'POST' | 'GET',
): Rejection | undefined {
  const ok = method === 'GET' ? formats.sse : formats.json || formats.sse;
  if (ok) return undefined;
  return {
    status: 406,
    message:
      method === 'GET'
        ? 'Not Acceptable: the client must accept text/event-stream'
        : 'Not Acceptable: the client must accept application/json or text/event-stream',
  };
}

/** POST bodies must be application/json. */
export function checkContentType(contentType: string | undefined): Rejection | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return { status: 415, message: 'Unsupported Media Type: Content-Type must be application/json' };
}
