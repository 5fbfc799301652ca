import { SUPPORTED_PROTOCOL_VERSIONS } from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import { type DownstreamRequest, header } from '../http-types.ts';
import type { Rejection } from '../validate.ts';

export const SESSION_HEADER = 'mcp-session-id';

/** The headers a new upstream session is opened with. */
export function upstreamHeaders(
  upstream: UpstreamConfig,
  req: DownstreamRequest,
): Record<string, string> {
  const headers = { ...upstream.headers };
  const authorization = header(req.headers, 'authorization');
  if (upstream.forwardAuthorization && authorization !== undefined) {
    headers.authorization = authorization;
  }
  return headers;
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
