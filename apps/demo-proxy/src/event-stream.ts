import type { JsonRpcMessage } from '@mcp/connection-core';
import type { ResponseSink } from './http-types.ts';

/** A downstream SSE response: events out, keep-alive comments, ends once. */
export interface EventStream {
  readonly closed: boolean;
  send(message: JsonRpcMessage, eventId?: string): void;
  /** Resolves once the downstream can take more (immediately when it can now). */
  drained(): Promise<void>;
  end(): void;
}

/** Starts an SSE response on `res` (status 200) with the given extra headers. */
export function openEventStream(
  res: ResponseSink,
  headers: Record<string, string>,
  keepAliveMs: number,
): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.flushHeaders?.();
  let closed = false;
  let writable = true;
  const keepAlive = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, keepAliveMs);
  keepAlive.unref();
  const onClose = (): void => {
    closed = true;
    clearInterval(keepAlive);
  };
  res.once('close', onClose);
  return {
    get closed() {
      return closed || res.destroyed;
    },
    send(message, eventId) {
      if (closed) return;
      const idLine = eventId === undefined ? '' : `id: ${eventId}\n`;
      writable = res.write(`event: message\n${idLine}data: ${JSON.stringify(message)}\n\n`);
    },
    drained() {
      if (writable || closed) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => {
          writable = true;
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    },
    end() {
      if (closed) return;
      onClose();
      res.off('close', onClose);
      res.end();
    },
  };
}
