import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** A downstream request, over HTTP/1.1 or HTTP/2 (node's compatibility API). */
export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type DownstreamResponse = ServerResponse | Http2ServerResponse;

/** The part of both response types the proxy uses, under one signature. */
export interface ResponseSink {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string | Uint8Array): unknown;
  on(event: 'close' | 'drain' | 'finish', listener: () => void): unknown;
  once(event: 'close' | 'drain' | 'finish', listener: () => void): unknown;
  off(event: 'close' | 'drain' | 'finish', listener: () => void): unknown;
  flushHeaders?(): void;
}

export function sink(res: DownstreamResponse): ResponseSink {
  return res as unknown as ResponseSink;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The Host of a request: `:authority` on HTTP/2, `Host` on HTTP/1.1. */
export function hostOf(req: DownstreamRequest): string | undefined {
  return header(req.headers, ':authority') ?? header(req.headers, 'host');
}

/**
 * True once the client has gone (reset its HTTP/2 stream, closed its connection): nothing
 * sent on `res` can reach it. (Http2ServerResponse has no `destroyed`: its stream does.)
 */
export function clientGone(res: ResponseSink): boolean {
  const { stream } = res as { stream?: { destroyed: boolean } };
  return stream === undefined ? res.destroyed : stream.destroyed;
}
