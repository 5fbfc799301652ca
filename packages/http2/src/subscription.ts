import {
  AbortedError,
  isJsonRpcNotification,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  MessageQueue,
  type RequestOptions,
  type SubscriptionFilter,
  SubscriptionsAcknowledgedSchema,
} from '@mcp/connection-core';

/** How a subscription ended: closed here, ended by the server, or lost (the stream broke). */
export type SubscriptionEnd = 'local' | 'graceful' | 'remote';

export interface SubscriptionOptions {
  /** Notifications held for a reader that is behind; past it the server's stream waits. */
  capacity?: number;
  /** How long the subscription may last, in ms (the connection's `maxTotalTimeoutMs` by default). */
  timeoutMs?: number;
  /** Headers for the listen request (as `RequestOptions.headers`). */
  headers?: Readonly<Record<string, string>>;
}

let nextListenId = 0;

/**
 * An open `subscriptions/listen` request (2026-07-28): the change notifications the server
 * sends on it, as an async iterable, in order. A reader that falls behind holds up the server's
 * stream (backpressure), not memory. Iteration ends when the subscription does; `close()` (or
 * leaving a `for await` early) ends it by closing the request's stream.
 */
export class Subscription implements AsyncIterable<JsonRpcNotification>, AsyncDisposable {
  /** The part of the filter the server agreed to honor (its acknowledgement). */
  readonly acknowledged: Promise<SubscriptionFilter>;
  /** Resolves once the subscription has ended, saying how. Never rejects. */
  readonly ended: Promise<SubscriptionEnd>;
  readonly #queue: MessageQueue<JsonRpcNotification>;
  readonly #controller = new AbortController();

  constructor(
    request: (message: JsonRpcRequest, options: RequestOptions) => Promise<JsonRpcResponse>,
    filter: SubscriptionFilter,
    options: SubscriptionOptions & { timeoutMs: number },
  ) {
    this.#queue = new MessageQueue(options.capacity ?? 64);
    let acknowledge!: (filter: SubscriptionFilter) => void;
    let refuse!: (error: unknown) => void;
    this.acknowledged = new Promise((resolve, reject) => {
      acknowledge = resolve;
      refuse = reject;
    });
    this.acknowledged.catch(() => {}); // a caller may only iterate; the reason is in `ended`
    const onMessage = (message: JsonRpcMessage): Promise<void> | undefined => {
      if (!isJsonRpcNotification(message)) return undefined;
      const ack = SubscriptionsAcknowledgedSchema.safeParse(message);
      if (ack.success) {
        acknowledge(ack.data.params.notifications);
        return undefined;
      }
      return this.#queue.put(message).catch(() => {});
    };
    const listen: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: `listen-${++nextListenId}`,
      method: 'subscriptions/listen',
      params: { notifications: filter },
    };
    const sent = request(listen, {
      signal: this.#controller.signal,
      timeoutMs: options.timeoutMs,
      onMessage,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    this.ended = sent.then(
      (response): SubscriptionEnd => {
        if ('error' in response) refuse(response.error);
        return 'graceful';
      },
      (error: unknown): SubscriptionEnd => {
        refuse(error);
        return error instanceof AbortedError && this.#controller.signal.aborted
          ? 'local'
          : 'remote';
      },
    );
    this.ended.finally(() => this.#queue.close()).catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JsonRpcNotification> {
    try {
      for (;;) {
        const next = await this.#queue.take();
        if (next === undefined) return;
        yield next;
      }
    } finally {
      await this.close();
    }
  }

  /** Ends the subscription (closes its stream: the era's cancellation). Idempotent. */
  async close(): Promise<void> {
    this.#controller.abort();
    await this.ended;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
