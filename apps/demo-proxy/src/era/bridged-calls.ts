import { randomBytes } from 'node:crypto';
import {
  type Connection,
  isJsonRpcRequest,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  jsonRpcError,
  RequestDeadline,
  type RequestOptions,
  TimeoutError,
} from '@mcp/connection-core';

/** How a bridged call starts: the upstream request and what owns it. */
export interface BridgedCallStart {
  connection: Connection;
  /** The request as the 2025-11-25 upstream gets it (the bridge's id, no envelope). */
  request: JsonRpcRequest;
  /** Headers of this client's upstream HTTP requests (its own credentials). */
  headers: Record<string, string> | undefined;
  /** Who may continue the call (the client's credentials and capabilities, hashed). */
  owner: string;
  /** The upstream call's limit however many rounds it takes, in ms. */
  totalTimeoutMs: number;
  /**
   * False where nothing may be kept between requests (the stateless mode): the upstream's
   * requests to the client are refused (-32601) and the call goes on.
   */
  mayWait: boolean;
  /** Called once, when the call is over (answered, cancelled or expired). */
  onEnd(): void;
}

export interface BridgedCallsOptions {
  /** Calls that may wait for their client's input at once; past it the upstream is refused. */
  maxWaiting: number;
  /** How long a call waits for its client to come back with the input, in ms. */
  inputTimeoutMs: number;
}

type Outcome = { response: JsonRpcResponse } | { error: unknown };

/** A downstream request of the call, waiting for what the upstream does next. */
interface Leg {
  resolve(response: JsonRpcResponse): void;
  reject(error: unknown): void;
  deadline: RequestDeadline;
  onMessage: RequestOptions['onMessage'];
}

/**
 * The reverse of MRTR, for 2026-07-28 clients of 2025-11-25-only upstreams: the upstream's
 * requests to the client during a call (sampling, elicitation, roots) become an
 * `input_required` answer whose `requestState` names the call kept here, the upstream call
 * still running. The client's retry, carrying that `requestState` and its `inputResponses`,
 * answers the upstream's requests and then gets the call's result (or another round). Calls
 * waiting for input are bounded (`maxWaiting`) and wait `inputTimeoutMs` at most; then the
 * upstream's requests get an error, the call is cancelled and forgotten. A `requestState`
 * continues a call only for the client that started it (`owner`), by the same method, once.
 */
export class BridgedCalls {
  readonly #waiting = new Map<string, { call: BridgedCall; timer: NodeJS.Timeout }>();
  readonly #options: BridgedCallsOptions;

  constructor(options: BridgedCallsOptions) {
    this.#options = options;
  }

  /** Calls waiting for their client's input now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Starts the upstream call; its first leg is `leg()`. */
  start(start: BridgedCallStart): BridgedCall {
    return new BridgedCall(this, start);
  }

  /** The call `requestState` names, if `owner` started it with `method`; it stops waiting. */
  claim(requestState: string, owner: string, method: string): BridgedCall | undefined {
    const entry = this.#waiting.get(requestState);
    if (entry === undefined || entry.call.owner !== owner || entry.call.method !== method) {
      return undefined;
    }
    this.#waiting.delete(requestState);
    clearTimeout(entry.timer);
    return entry.call;
  }

  /** Files the call as waiting for input: its `requestState`, or undefined when full. */
  park(call: BridgedCall): string | undefined {
    if (this.#waiting.size >= this.#options.maxWaiting) return undefined;
    const requestState = randomBytes(18).toString('base64url');
    const timer = setTimeout(() => {
      if (this.#waiting.get(requestState)?.call !== call) return;
      this.#waiting.delete(requestState);
      call.expire(new TimeoutError(this.#options.inputTimeoutMs, 'Waiting for input'));
    }, this.#options.inputTimeoutMs);
    timer.unref();
    this.#waiting.set(requestState, { call, timer });
    return requestState;
  }

  /** Ends every waiting call (at shutdown). */
  closeAll(): void {
    for (const [requestState, { call, timer }] of this.#waiting) {
      clearTimeout(timer);
      this.#waiting.delete(requestState);
      call.expire(new TimeoutError(0, 'Waiting for input'));
    }
  }
}

/** One bridged upstream call, across the downstream requests (legs) that make it up. */
export class BridgedCall {
  readonly owner: string;
  readonly method: string;
  readonly #table: BridgedCalls;
  readonly #start: BridgedCallStart;
  readonly #controller = new AbortController();
  /** The upstream's requests not shown to the client yet. */
  readonly #asked: JsonRpcRequest[] = [];
  /** The upstream's requests shown to the client, by their key in `inputRequests`. */
  readonly #shown = new Map<string, JsonRpcRequest>();
  #keys = 0;
  #leg: Leg | undefined;
  #parked = false;
  #outcome: Outcome | undefined;
  #ended = false;

  constructor(table: BridgedCalls, start: BridgedCallStart) {
    this.#table = table;
    this.#start = start;
    this.owner = start.owner;
    this.method = start.request.method;
    start.connection
      .request(start.request, {
        signal: this.#controller.signal,
        timeoutMs: start.totalTimeoutMs,
        onMessage: (message) => this.#fromUpstream(message),
        headers: start.headers,
      })
      .then(
        (response) => this.#settle({ response }),
        (error: unknown) => this.#settle({ error }),
      );
  }

  /**
   * Waits for what the upstream does next: the call's response, or an `input_required` one
   * asking the client what the upstream asked. `options` are the downstream request's: its
   * time limit, its abort (the client gone: the call is cancelled), where related messages go.
   */
  leg(options: RequestOptions): Promise<JsonRpcResponse> {
    return new Promise((resolve, reject) => {
      const deadline = new RequestDeadline(options, (error) => {
        if (this.#leg?.deadline !== deadline) return;
        this.#leg = undefined;
        reject(error);
        this.#controller.abort(error);
      });
      this.#leg = { resolve, reject, deadline, onMessage: options.onMessage };
      this.#next();
    });
  }

  /** The client's retry: answers the upstream's requests from `inputResponses`, then a leg. */
  resume(
    inputResponses: Record<string, unknown>,
    options: RequestOptions,
  ): Promise<JsonRpcResponse> {
    this.#parked = false;
    for (const [key, request] of this.#shown) {
      const result = inputResponses[key];
      this.#reply(
        result === undefined
          ? jsonRpcError(request.id, -32602, `the client sent no input response for ${key}`)
          : { jsonrpc: '2.0', id: request.id, result: result as Record<string, unknown> },
      );
    }
    this.#shown.clear();
    return this.leg(options);
  }

  /** The client did not come back in time: the upstream's requests fail, the call is cancelled. */
  expire(reason: TimeoutError): void {
    this.#parked = false;
    for (const request of this.#shown.values()) {
      this.#reply(jsonRpcError(request.id, -32001, 'the client did not answer in time'));
    }
    this.#shown.clear();
    this.#controller.abort(reason);
    if (this.#outcome !== undefined) this.#end();
  }

  #fromUpstream(message: JsonRpcMessage): unknown {
    if (isJsonRpcRequest(message)) {
      if (this.#start.mayWait) {
        this.#asked.push(message);
        this.#next();
      } else {
        // The stateless mode keeps no call between requests: refuse, so the upstream goes on.
        this.#reply(jsonRpcError(message.id, -32601, 'the client cannot be asked (2026-07-28)'));
      }
      return undefined;
    }
    if ('method' in message && message.method === 'notifications/progress') {
      this.#leg?.deadline.progress();
    }
    return this.#leg?.onMessage?.(message);
  }

  #settle(outcome: Outcome): void {
    this.#outcome = outcome;
    if (this.#leg !== undefined) this.#next();
    else if (!this.#parked) this.#end();
  }

  /** Tells the waiting leg, if there is one and something to tell it. */
  #next(): void {
    const leg = this.#leg;
    if (leg === undefined) return;
    if (this.#outcome !== undefined) {
      this.#leaveLeg(leg);
      if ('response' in this.#outcome) leg.resolve(this.#outcome.response);
      else leg.reject(this.#outcome.error);
      this.#end();
      return;
    }
    if (this.#asked.length === 0) return;
    const requestState = this.#table.park(this);
    if (requestState === undefined) {
      const full = 'too many calls wait for input at this proxy';
      for (const request of this.#asked.splice(0))
        this.#reply(jsonRpcError(request.id, -32603, full));
      return;
    }
    this.#parked = true;
    const inputRequests: Record<string, { method: string; params?: unknown }> = {};
    for (const request of this.#asked.splice(0)) {
      const key = `input-${++this.#keys}`;
      this.#shown.set(key, request);
      inputRequests[key] = { method: request.method, params: request.params };
    }
    this.#leaveLeg(leg);
    const result = { resultType: 'input_required', inputRequests, requestState };
    leg.resolve({ jsonrpc: '2.0', id: this.#start.request.id, result });
  }

  #leaveLeg(leg: Leg): void {
    leg.deadline.dispose();
    this.#leg = undefined;
  }

  #reply(response: JsonRpcResponse): void {
    this.#start.connection.respond(response, { headers: this.#start.headers }).catch(() => {});
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#start.onEnd();
  }
}
