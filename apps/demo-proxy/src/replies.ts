import { type JsonRpcId, jsonRpcError } from '@mcp/connection-core';
import type { ResponseSink } from './http-types.ts';
import type { Rejection } from './validate.ts';

/** Sends one JSON body and ends the response. */
export function sendJson(
  res: ResponseSink,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends JSON bytes as they are (a message relayed unchanged) and ends the response. */
export function sendJsonBytes(
  res: ResponseSink,
  status: number,
  bytes: Uint8Array,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': bytes.byteLength,
    ...headers,
  });
  res.end(bytes);
}

/**
 * Answers with an HTTP error whose body is a JSON-RPC error (what MCP clients read), with the
 * request's id when it is known.
 */
export function sendRejection(
  res: ResponseSink,
  rejection: Rejection,
  id: JsonRpcId | null = null,
): void {
  sendJson(
    res,
    rejection.status,
    jsonRpcError(id, rejection.rpcCode ?? -32000, rejection.message),
    rejection.headers,
  );
}

export function sendEmpty(
  res: ResponseSink,
  status: number,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, headers);
  res.end();
}
