import {
  AbortedError,
  type InputRequest,
  isInputRequired,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type RequestOptions,
  TimeoutError,
} from '@mcp/connection-core';

/** Rounds of input one request may ask for before its `input_required` result is returned as is. */
export const MAX_INPUT_ROUNDS = 8;

/**
 * Multi round-trip requests (2026-07-28) in the style of the 2025-11-25 era: each request a
 * server embeds in an `input_required` result reaches the caller's `onMessage` as a
 * server-to-client request (id `<request id>/<round>/<key>`), the caller answers it with
 * `respond()` as it always has, and the request is sent again with the answers
 * (`inputResponses`) and the server's `requestState`, until the server answers for good. Code
 * (or a proxied 2025-11-25 client) that answers sampling and elicitation requests works in both
 * eras unchanged. Without `onMessage`, the `input_required` result is the response.
 */
export class InputRounds {
  readonly #waiting = new Map<JsonRpcId, (answer: JsonRpcResponse) => void>();

  async request(
    send: (message: JsonRpcRequest) => Promise<JsonRpcResponse>,
    message: JsonRpcRequest,
    options: RequestOptions | undefined,
    timeoutMs: number,
  ): Promise<JsonRpcResponse> {
    const onMessage = options?.onMessage;
    let current = message;
    for (let round = 1; ; round++) {
      const response = await send(current);
      const result = 'result' in response ? response.result : undefined;
      if (onMessage === undefined || round > MAX_INPUT_ROUNDS || !isInputRequired(result)) {
        return current === message ? response : { ...response, id: message.id };
      }
      const asked = Object.entries(result.inputRequests ?? {});
      const answers: Record<string, unknown> = {};
      for (const [key, input] of asked) {
        const answer = await this.#ask(`${message.id}/${round}/${key}`, input, options, timeoutMs);
        if (!('result' in answer)) return { ...answer, id: message.id };
        answers[key] = answer.result;
      }
      current = retry(message, `${message.id}/${round}`, answers, result.requestState);
    }
  }

  /** An answer to one of the requests above; false when it answers none of them. */
  answer(response: JsonRpcResponse): boolean {
    const waiter = response.id === null ? undefined : this.#waiting.get(response.id);
    if (waiter === undefined) return false;
    waiter(response);
    return true;
  }

  #ask(
    id: string,
    input: InputRequest,
    options: RequestOptions | undefined,
    timeoutMs: number,
  ): Promise<JsonRpcResponse> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiting.delete(id);
      };
      const onAbort = (): void => {
        done();
        reject(new AbortedError({ cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(timeoutMs));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(id, (answer) => {
        done();
        resolve(answer);
      });
      const asked: JsonRpcRequest = { jsonrpc: '2.0', id, method: input.method };
      if (input.params !== undefined) asked.params = input.params;
      try {
        options?.onMessage?.(asked);
      } catch {
        // onMessage must not throw; what it throws is ignored (as for every related message).
      }
    });
  }
}

function retry(
  original: JsonRpcRequest,
  id: string,
  inputResponses: Record<string, unknown>,
  requestState: string | undefined,
): JsonRpcRequest {
  const params: Record<string, unknown> = {
    ...(original.params as Record<string, unknown>),
    inputResponses,
  };
  if (requestState !== undefined) params.requestState = requestState;
  else delete params.requestState;
  return { ...original, id, params };
}
