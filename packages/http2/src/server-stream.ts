import type {
  ConnectionMetrics,
  JsonRpcMessage,
  JsonRpcRequest,
  JsonRpcResponse,
  MessageQueue,
} from '@mcp/connection-core';
import { backoffDelayMs } from './backoff.ts';
import { contentKind } from './content-kind.ts';
import {
  type AbortEmitter,
  destroyBody,
  discardBody,
  type HttpTarget,
  type ResponseData,
  sendHttp,
} from './http.ts';
import type { ReconnectionOptions } from './options.ts';
import type { SessionState } from './session.ts';
import { readSseMessages, type StreamCursor } from './sse-messages.ts';

export interface ServerStreamHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
  readonly reconnection: ReconnectionOptions;
  readonly queue: MessageQueue<JsonRpcMessage>;
  routeResponse(response: JsonRpcResponse): boolean;
}

export type ServerStreamEnd =
  | 'stopped'
  | 'not-offered' // 405: the server has no GET stream
  | 'session-expired'
  | 'gave-up';

/**
 * The first answer to a GET stream: 'open' (a 200 event stream), 'session-expired' (404),
 * 'not-offered' (405), or 'unavailable' (anything else, or no stream to open: the stream, if
 * any, keeps trying).
 */
export type ServerStreamAnswer = 'open' | 'session-expired' | 'not-offered' | 'unavailable';

/** The SSE event id each server-initiated message came after (or with), for resumption. */
const eventIds = new WeakMap<JsonRpcMessage, string>();

/**
 * The id of the latest SSE event of the GET stream when `message` arrived on it (its own id,
 * when it had one): a GET with it as `Last-Event-ID` resumes after `message`. Undefined for
 * messages that came another way, or from a stream that sends no ids.
 */
export function serverEventIdOf(message: JsonRpcMessage): string | undefined {
  return eventIds.get(message);
}

/**
 * The GET stream of one session: server-initiated messages go to the connection's bounded
 * queue (a full queue stops the reading, so backpressure reaches the server). When the stream
 * ends or breaks it is reopened with Last-Event-ID after the server's `retry` (or a backoff).
 * Failed attempts in a row are bounded by `maxAttempts`.
 */
export class ServerStream implements AbortEmitter {
  readonly done: Promise<ServerStreamEnd>;
  /** True while a GET's event stream is being read. */
  #connected = false;
  /** The next GET's answer, for those waiting on it. */
  #next = pendingAnswer();
  /** Once the stream ended: what every later `answer()` says. */
  #final: ServerStreamAnswer | undefined;
  #host: ServerStreamHost;
  #stopped = false;
  /** Set by `finish()`: read what the open stream still sends, but never reopen it. */
  #finishing = false;
  #abortListener: (() => void) | undefined;
  #cursor: StreamCursor = { lastEventId: undefined, retryMs: undefined };
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Whether a GET was ever answered with a stream. */
  opened = false;

  /** `lastEventId`: where to resume, for a stream of a session another process followed. */
  constructor(host: ServerStreamHost, lastEventId?: string) {
    this.#host = host;
    this.#cursor.lastEventId = lastEventId;
    this.done = this.#loop()
      .catch(() => 'gave-up' as const)
      .then((end) => {
        this.#final = end === 'stopped' || end === 'gave-up' ? 'unavailable' : end;
        this.#next.resolve(this.#final);
        return end;
      });
  }

  /** 'open' while a GET's stream is read; else the answer to the next GET (or the end's). */
  answer(): Promise<ServerStreamAnswer> {
    if (this.#connected) return Promise.resolve('open');
    return this.#final === undefined ? this.#next.promise : Promise.resolve(this.#final);
  }

  #answered(answer: ServerStreamAnswer): void {
    const next = this.#next;
    this.#next = pendingAnswer();
    next.resolve(answer);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const listener = this.#abortListener;
    this.#abortListener = undefined;
    listener?.();
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  /**
   * Stops reopening: the open stream is read until the server ends it (as it does when the
   * session is deleted). Ending a stream that way spares the server a reset: HTTP/2 servers
   * count resets and answer too many with GOAWAY (nghttp2's rapid-reset limit), and over
   * HTTP/1.1 an aborted response costs its socket.
   */
  finish(): void {
    this.#finishing = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  on(_event: 'abort', listener: () => void): this {
    this.#abortListener = listener;
    return this;
  }
  once(_event: 'abort', listener: () => void): this {
    this.#abortListener = listener;
    return this;
  }
  removeListener(_event: 'abort', listener: () => void): this {
    if (this.#abortListener === listener) this.#abortListener = undefined;
    return this;
  }

  async #loop(): Promise<ServerStreamEnd> {
    const host = this.#host;
    let failures = 0;
    const deliver = (message: JsonRpcMessage): boolean | Promise<boolean> => {
      if (this.#cursor.lastEventId !== undefined) eventIds.set(message, this.#cursor.lastEventId);
      if (!('method' in message)) {
        host.routeResponse(message);
        return this.#stopped;
      }
      if ('id' in message) host.session.serverRequestArrived((message as JsonRpcRequest).id);
      else host.metrics.notificationReceived(message.method);
      return host.queue.put(message).then(
        () => this.#stopped,
        () => true, // the queue closed: the connection is closing
      );
    };
    while (!this.#stopped && !this.#finishing) {
      const sessionId = host.session.sessionId;
      const response = await this.#open();
      if (this.#stopped) {
        if (response !== undefined) destroyBody(response.body);
        break;
      }
      if (response !== undefined) {
        const status = response.statusCode;
        // A 405 or a 404 for the session ends the stream, which answers with its end.
        const ends = status === 405 || (status === 404 && sessionId !== undefined);
        if (!ends) this.#answered(answerOf(response));
        if (status === 405) {
          discardBody(response.body);
          return 'not-offered';
        }
        if (status === 404 && sessionId !== undefined) {
          discardBody(response.body);
          return 'session-expired';
        }
        if (status === 200 && contentKind(response.headers['content-type']) === 'sse') {
          this.opened = true;
          this.#connected = true;
          failures = 0;
          try {
            await readSseMessages(response.body, this.#cursor, host.metrics, deliver);
          } catch {
            // Broken or invalid: reopen from the last event id.
          } finally {
            this.#connected = false;
          }
          if (this.#stopped || this.#finishing) break;
        } else {
          discardBody(response.body);
          failures++;
        }
      } else {
        this.#answered('unavailable');
        failures++;
      }
      if (failures > host.reconnection.maxAttempts) return 'gave-up';
      if (this.#finishing) break;
      await this.#sleep(this.#cursor.retryMs ?? backoffDelayMs(host.reconnection, failures || 1));
    }
    return 'stopped';
  }

  async #open(): Promise<ResponseData | undefined> {
    const host = this.#host;
    try {
      const pending = host.session.getHeaders(this.#cursor.lastEventId);
      const headers = pending instanceof Promise ? await pending : pending;
      if (this.#stopped) return undefined;
      return await sendHttp(host.target, 'GET', headers, this);
    } catch {
      return undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }
}

function answerOf(response: ResponseData): ServerStreamAnswer {
  const sse = contentKind(response.headers['content-type']) === 'sse';
  return response.statusCode === 200 && sse ? 'open' : 'unavailable';
}

interface PendingAnswer {
  promise: Promise<ServerStreamAnswer>;
  resolve(answer: ServerStreamAnswer): void;
}

function pendingAnswer(): PendingAnswer {
  let resolve: (answer: ServerStreamAnswer) => void = () => {};
  const promise = new Promise<ServerStreamAnswer>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
