import { SUPPORTED_PROTOCOL_VERSIONS } from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import { type DownstreamRequest, header } from '../http-types.ts';
import type { UpstreamHeaders } from '../upstream-connector.ts';
import type { Rejection } from '../validate.ts';

export const SESSION_HEADER = 'mcp-session-id';

/** The client's credentials as of its latest request in the session. */
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
 * upstream says `forwardAuthorization`, the client's latest Authorization (read at each
 * upstream request from `credentials`, which every POST of the session updates).
 */
export function upstreamHeaders(
  upstream: UpstreamConfig,
  credentials: SessionCredentials,
): UpstreamHeaders {
  const fixed = { ...upstream.headers };
  if (!upstream.forwardAuthorization) return fixed;
  return () =>
    credentials.authorization === undefined
      ? fixed
      : { ...fixed, authorization: credentials.authorization };
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
