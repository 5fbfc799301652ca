import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidOptionsError, parseOptions } from '@mcp/connection-core';
import {
  DEFAULT_CONNECTION_WINDOW_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  MAX_WINDOW_SIZE,
} from '@mcp/http2';
import {
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
  DEFAULT_MAX_HTTP1_SOCKETS_PER_ORIGIN,
  DEFAULT_MAX_HTTP1_STREAM_SOCKETS_PER_ORIGIN,
  DEFAULT_QUEUE_TIMEOUT_MS,
} from '@mcp/pool';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CidrSchema } from './client-address.ts';
import { EdgeConfigSchema } from './edge-config.ts';
import { LogFormatSchema } from './log-format.ts';
import { SealingKeysSchema } from './sealing-keys.ts';

const UPSTREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export const TlsConfigSchema = z.strictObject({
  /** PEM certificate chain file. */
  cert: z.string().min(1),
  /** PEM private key file. */
  key: z.string().min(1),
});

export const UpstreamConfigSchema = z.strictObject({
  /** Served at `/<name>/mcp`. Letters, digits, `-` and `_`. */
  name: z.string().regex(UPSTREAM_NAME, 'letters, digits, "-" and "_" only (max 63)'),
  /** The upstream's MCP endpoint, http(s)://host:port/path. */
  url: z.url({ protocol: /^https?$/ }),
  /** Speak cleartext HTTP/2 (prior knowledge) to an http:// upstream. */
  h2c: z.boolean().default(false),
  /** Extra headers sent on every upstream request (e.g. an API key for the upstream). */
  headers: z.record(z.string(), z.string()).default({}),
  /**
   * Send each downstream request's own Authorization header to this upstream (never another
   * request's). Off by default.
   */
  forwardAuthorization: z.boolean().default(false),
  /**
   * The MCP eras the upstream speaks. '2025-11-25' (the default): 2026-07-28 clients are
   * bridged onto upstream sessions. '2026-07-28': 2025-11-25 clients are bridged (initialize
   * becomes discovery). 'both': each client's requests go through in its own era.
   */
  era: z.enum(['2025-11-25', '2026-07-28', 'both']).default('2025-11-25'),
  /**
   * How 2026-07-28 clients of a 2025-11-25 upstream are bridged: 'per-client' keeps an upstream
   * session per client (credentials) and capabilities; 'per-request' (the stateless mode: any
   * replica answers any request) opens and ends one upstream session per request.
   */
  bridgeSessions: z.enum(['per-client', 'per-request']).default('per-client'),
});

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export const SessionsConfigSchema = z.strictObject({
  /**
   * The request header whose value a session is bound to: a session created with it answers
   * only requests carrying the same value (a hash is kept, compared in constant time).
   */
  bindingHeader: z
    .string()
    .toLowerCase()
    .regex(HEADER_NAME, 'a lowercase HTTP header name')
    .default('authorization'),
  /**
   * Sessions one client may hold (a client is its binding header's value, or its IP address
   * when it sends none). At the quota, a session the client has left (its GET stream closed,
   * nothing sent since) is ended to make room; when there is none, initialize gets 429.
   */
  maxSessionsPerClient: z.number().int().positive().default(64),
  /**
   * A session whose only activity is an open GET stream is ended this long after its last
   * request, in ms (the idle limit does not apply while a stream is open).
   */
  streamIdleTimeoutMs: z.number().int().positive().default(3_600_000),
  /**
   * Sealed sessions for replicas behind a load balancer: session ids become tokens sealed with
   * the first of these keys (`{ id, secret | secretEnv | secretFile }`, base64 of 32 bytes) and
   * opened with any of them, so every replica holding the keys serves every session.
   */
  sealingKeys: SealingKeysSchema.optional(),
  /**
   * When the upstream answers 404 for a session's upstream session (it restarted, or expired
   * the session), open a new one with the client's `initialize` and retry the message once: a
   * 404 means the upstream never ran it. With sealed sessions the client gets the new token in
   * the answer's Mcp-Session-Id. false: the client gets 404 and initializes again.
   * Default: true, but false with sealingKeys: a replica cannot know that another one DELETEd
   * the session, so renewing there would bring an ended (or stolen) token back to life.
   */
  reinitialize: z.boolean().optional(),
  /**
   * Sealed sessions: a token older than this gets 404, in ms. Answers carry a re-sealed token
   * once the one they were asked with is past half of it, so a session in use lives on.
   */
  tokenMaxAgeMs: z.number().int().positive().default(86_400_000),
});

export const LimitsConfigSchema = z.strictObject({
  /** Largest POST body accepted, in bytes; larger bodies get 413. */
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  /** Open downstream sessions, all upstreams together; past it initialize gets 503. */
  maxSessions: z.number().int().positive().default(1_000),
  /** Requests in flight through the proxy; past it requests get 503. */
  maxConcurrentRequests: z.number().int().positive().default(1_000),
  /** Requests in flight in one session; past it the session's requests get 429. */
  maxConcurrentRequestsPerSession: z.number().int().positive().default(100),
  /** Upstream response time limit for one request, in ms (reset by progress notifications). */
  requestTimeoutMs: z.number().int().positive().default(60_000),
  /** Longest a request may take however much progress it reports, in ms from its start. */
  maxTotalTimeoutMs: z.number().int().positive().default(600_000),
  /** A session with no traffic and no open stream for this long is ended, in ms. */
  sessionIdleTimeoutMs: z.number().int().positive().default(600_000),
  /** On SIGINT/SIGTERM, how long in-flight requests may take to finish, in ms. */
  drainTimeoutMs: z.number().int().nonnegative().default(10_000),
  /** Server-initiated events kept per session for `Last-Event-ID` resumption. */
  eventBufferSize: z.number().int().positive().default(100),
  /** Time a client has to send its request headers (and a new connection its first bytes), in ms. */
  headersTimeoutMs: z.number().int().positive().default(10_000),
  /** Interval of SSE keep-alive comments, in ms. */
  keepAliveMs: z.number().int().positive().default(15_000),
  /**
   * How long a session's upstream GET stream stays open after the client's GET stream closed,
   * in ms (a client that reconnects within it finds it open); then it closes.
   */
  serverStreamLingerMs: z.number().int().nonnegative().default(1_000),
});

const positive = z.number().int().positive();

/** The upstream pool (@mcp/pool); defaults are the pool's own. */
export const PoolConfigSchema = z.strictObject({
  /** HTTP/2: TCP connections per upstream origin, at most. */
  connectionsPerOrigin: positive.default(DEFAULT_MAX_CONNECTIONS_PER_ORIGIN),
  /**
   * HTTP/2: the ceiling on streams per upstream TCP connection (the upstream's SETTINGS decide
   * below it). An origin takes at most connectionsPerOrigin x maxConcurrentStreams / 2 sessions;
   * past that, initialize gets 503.
   */
  maxConcurrentStreams: positive.default(DEFAULT_MAX_CONCURRENT_STREAMS),
  /** HTTP/1.1: sockets per upstream origin for requests (POST, DELETE). */
  maxHttp1SocketsPerOrigin: positive.default(DEFAULT_MAX_HTTP1_SOCKETS_PER_ORIGIN),
  /** HTTP/1.1: sockets per upstream origin for GET streams, apart from the request sockets. */
  maxHttp1StreamSocketsPerOrigin: positive.default(DEFAULT_MAX_HTTP1_STREAM_SOCKETS_PER_ORIGIN),
  /** Requests that may wait for a free socket or stream slot, per origin; default: the pool's. */
  maxQueuedPerOrigin: z.number().int().nonnegative().optional(),
  /** How long a request may wait for a free socket or stream slot, in ms; then 503. */
  queueTimeoutMs: positive.default(DEFAULT_QUEUE_TIMEOUT_MS),
  /** HTTP/2: per-stream receive window (bytes) granted to upstreams (@mcp/http2, flow control). */
  initialWindowSize: positive.max(MAX_WINDOW_SIZE).default(DEFAULT_INITIAL_WINDOW_SIZE),
  /** HTTP/2: per-connection receive window (bytes) granted to upstreams. */
  connectionWindowSize: positive.max(MAX_WINDOW_SIZE).default(DEFAULT_CONNECTION_WINDOW_SIZE),
  /** PEM files of certificate authorities trusted for https:// upstreams, beyond the system's. */
  ca: z.array(z.string().min(1)).default([]),
});

export const ListenConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(8080),
  tls: TlsConfigSchema.optional(),
  /**
   * Host header values accepted besides the loopback names (checked only when bound to a
   * loopback address, against DNS rebinding).
   */
  allowedHosts: z.array(z.string()).default([]),
  /** Origin header values accepted besides loopback origins (same condition). */
  allowedOrigins: z.array(z.string()).default([]),
  /**
   * Proxies trusted to say who their client is (IP addresses or CIDR blocks, as nginx's
   * `set_real_ip_from`): a request from one of them counts as coming from the right-most
   * `X-Forwarded-For` entry that is not one of them (per-client session quotas, logs).
   */
  realIpFrom: z.array(CidrSchema).default([]),
});

export const ProxyConfigSchema = z
  .strictObject({
    listen: ListenConfigSchema.default({
      host: '127.0.0.1',
      port: 8080,
      allowedHosts: [],
      allowedOrigins: [],
      realIpFrom: [],
    }),
    upstreams: z.array(UpstreamConfigSchema).min(1, 'at least one upstream is required'),
    limits: LimitsConfigSchema.default(LimitsConfigSchema.parse({})),
    pool: PoolConfigSchema.default(PoolConfigSchema.parse({})),
    edge: EdgeConfigSchema.default(EdgeConfigSchema.parse({})),
    sessions: SessionsConfigSchema.default(SessionsConfigSchema.parse({})),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    logFormat: LogFormatSchema.default('auto'),
  })
  .superRefine((config, ctx) => {
    const { limits, edge } = config;
    if (edge.writeTimeoutMs <= Math.max(limits.requestTimeoutMs, limits.keepAliveMs)) {
      ctx.addIssue({
        code: 'custom',
        path: ['edge', 'writeTimeoutMs'],
        message: 'must be longer than limits.requestTimeoutMs and limits.keepAliveMs',
      });
    }
    if (limits.maxTotalTimeoutMs < limits.requestTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxTotalTimeoutMs'],
        message: 'must be at least limits.requestTimeoutMs',
      });
    }
    const seen = new Set<string>();
    config.upstreams.forEach((upstream, i) => {
      if (seen.has(upstream.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['upstreams', i, 'name'],
          message: `duplicate upstream name "${upstream.name}"`,
        });
      }
      seen.add(upstream.name);
    });
  });

export type ProxyConfig = z.output<typeof ProxyConfigSchema>;
export type ProxyConfigInput = z.input<typeof ProxyConfigSchema>;
export type UpstreamConfig = z.output<typeof UpstreamConfigSchema>;
export type SessionsConfig = z.output<typeof SessionsConfigSchema>;

/** Validates a config object; throws InvalidOptionsError naming each bad field by its path. */
export function parseProxyConfig(input: unknown): ProxyConfig {
  return parseOptions(ProxyConfigSchema, input, 'proxy config');
}

/** Reads a JSON (.json) or YAML (anything else) config file and validates it. */
export async function loadConfigFile(path: string): Promise<ProxyConfig> {
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new InvalidOptionsError(
      `proxy config ${path}`,
      [{ path: '', message: 'not valid JSON or YAML' }],
      { cause },
    );
  }
  return parseProxyConfig(value);
}

/** `--port` wins over `PORT`, which wins over the file. */
export function overridePort(config: ProxyConfig, port: string | undefined): ProxyConfig {
  if (port === undefined || port === '') return config;
  return parseProxyConfig({ ...config, listen: { ...config.listen, port: Number(port) } });
}
