import {
  ConnectionClosedError,
  EndpointOriginError,
  InvalidMessageError,
  TimeoutError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import { parseSseStream, type SseEvent } from './decode.ts';
import { asTransportError, statusError } from './http.ts';

export interface LegacyStream {
  /** Where to POST messages: the `endpoint` event resolved against the SSE URL. */
  endpoint: URL;
  /** The endpoint's `sessionId` query parameter, when it has one. */
  sessionId: string | undefined;
  /** The rest of the stream, after the endpoint event. */
  events: AsyncGenerator<SseEvent, void, undefined>;
}

export interface OpenLegacyStreamOptions {
  url: URL;
  dispatcher: Dispatcher;
  headers: Record<string, string>;
  /** Aborting ends the stream at any time (the connection's lifetime). */
  signal: AbortSignal;
  endpointTimeoutMs: number;
  maxBufferSize: number | undefined;
}

/**
 * GETs a 2024-11-05 HTTP+SSE stream and waits for its `endpoint` event. Rejects with
 * HttpStatusError, UnexpectedContentTypeError, EndpointOriginError, TimeoutError (no endpoint in
 * time), ConnectionClosedError (stream ended first) or TransportError.
 */
export async function openLegacyStream(options: OpenLegacyStreamOptions): Promise<LegacyStream> {
  const { url, dispatcher, signal, endpointTimeoutMs } = options;
  const timeoutController = new AbortController();
  const timer = setTimeout(() => timeoutController.abort(), endpointTimeoutMs);
  const timeout = timeoutController.signal;
  const connectSignal = AbortSignal.any([signal, timeout]);
  const timedOut = (): TimeoutError =>
    new TimeoutError(endpointTimeoutMs, 'Waiting for the endpoint event');
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers: { ...options.headers, accept: 'text/event-stream' },
      // An SSE stream may stay idle for long: the connection's signal ends it, not a timer.
      bodyTimeout: 0,
      signal: connectSignal,
    });
  } catch (err) {
    clearTimeout(timer);
    if (timeout.aborted && !signal.aborted) throw timedOut();
    throw asTransportError(err, 'GET of the SSE stream failed');
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    clearTimeout(timer);
    throw await statusError(response, undefined);
  }
  const contentType = response.headers['content-type'];
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!type?.toLowerCase().startsWith('text/event-stream')) {
    clearTimeout(timer);
    response.body.destroy();
    throw new UnexpectedContentTypeError(type, 'text/event-stream');
  }
  const events = parseSseStream(response.body, { signal, maxBufferSize: options.maxBufferSize });
  const onTimeout = (): void => {
    response.body.destroy(timedOut());
  };
  timeout.addEventListener('abort', onTimeout, { once: true });
  try {
    for (;;) {
      let step: IteratorResult<SseEvent>;
      try {
        step = await events.next();
      } catch (err) {
        if (timeout.aborted && !signal.aborted) throw timedOut();
        throw err;
      }
      if (step.done) throw new ConnectionClosedError('SSE stream ended before the endpoint event');
      if (step.value.event !== 'endpoint') continue;
      const endpoint = URL.parse(step.value.data.trim(), url.href);
      if (endpoint === null) {
        throw new InvalidMessageError('invalid-field', 'the endpoint event holds no valid URL');
      }
      if (endpoint.origin !== url.origin) {
        await events.return();
        throw new EndpointOriginError(endpoint.href, url.origin);
      }
      return { endpoint, sessionId: endpoint.searchParams.get('sessionId') ?? undefined, events };
    }
  } catch (err) {
    await events.return();
    throw err;
  } finally {
    clearTimeout(timer);
    timeout.removeEventListener('abort', onTimeout);
  }
}
