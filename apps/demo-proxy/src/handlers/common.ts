import { SUPPORTED_PROTOCOL_VERSIONS } from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import { type DownstreamRequest, header } from '../http-types.ts';
import type { UpstreamHeaders } from '../upstream-connector.ts';
import type { Rejection } from '../validate.ts';

export const SESSION_HEADER = 'mcp-session-id';

/**
 * The Authorization of the session's latest request, for the upstream requests no downstream
 * request makes (the session's GET stream, its DELETE, a re-initialize). Every request that
 * reaches a session has passed its binding check, so it is the same client's.
 */
export interface SessionCredentials {
  authorization: string | undefined;
}

/** Records the request's Authorization (when it has one) as the session's latest. */
export function updateCredentials(credentials: SessionCredentials, req: DownstreamRequest): void {
  const authorization = header(req.headers, 'authorization');
  if (authorization !== undefined) credentials.authorization = authorization;
}

/**
 * The headers of a new upstream session: the upstream's configured ones, plus, only where the
 * upstream says `forwardAuthorization`, an Authorization for the requests the session makes on
 * its own (see SessionCredentials). Relayed messages carry their own (`ownHeaders`) instead.
 */
export function upstreamHeaders(
  upstream: UpstreamConfig,
  credentials: SessionCredentials,
): UpstreamHeaders {
  const fixed = { ...upstream.headers };
  if (!upstream.forwardAuthorization) return fixed;
  return ({ method, rpcMethod }) => {
    const relayed = method === 'POST' && rpcMethod !== 'initialize';
    if (relayed || credentials.authorization === undefined) return fixed;
    return { ...fixed, authorization: credentials.authorization };
  };
}

/**
 * The headers a relayed message carries besides the session's: where the upstream says
 * `forwardAuthorization`, the request's own Authorization (none when it has none), never
 * another request's.
 */
export function ownHeaders(
  upstream: UpstreamConfig,
  req: DownstreamRequest,
): Record<string, string> | undefined {
  if (!upstream.forwardAuthorization) return undefined;
  const authorization = header(req.headers, 'authorization');
  return authorization === undefined ? undefined : { authorization };
}

/** An MCP-Protocol-Version header, when sent, must name a version this proxy speaks. */
export function checkProtocolVersion(req: DownstreamRequest): Rejection | undefined {
  const version = header(req.headers, 'mcp-protocol-version');
  if (version === undefined) return undefined;
  if ((SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version)) return undefined;
  return {
    status: 400,
    message: `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)}`,
    rpcCode: -32600,
  };
}
