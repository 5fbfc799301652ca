import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from './errors.ts';
import {
  isJsonRpcErrorResponse,
  isJsonRpcNotification,
  isJsonRpcRequest,
  isJsonRpcResponse,
  JsonRpcErrorResponseSchema,
  JsonRpcNotificationSchema,
  JsonRpcRequestSchema,
  JsonRpcResultResponseSchema,
  jsonRpcError,
  parseMessage,
  parseMessages,
} from './jsonrpc.ts';

function issueOf(input: string | Uint8Array): string | undefined {
  try {
    parseMessage(input);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMessageError);
    return (err as InvalidMessageError).issue;
  }
}

describe('parseMessage', () => {
  it('parses each kind of message', () => {
    const req = parseMessage('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}');
    expect(isJsonRpcRequest(req)).toBe(true);
    expect(req).toEqual({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

    const note = parseMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(isJsonRpcNotification(note)).toBe(true);

    const ok = parseMessage(new TextEncoder().encode('{"jsonrpc":"2.0","id":"a","result":{}}'));
    expect(isJsonRpcResponse(ok)).toBe(true);
    expect(isJsonRpcErrorResponse(ok)).toBe(false);

    const err = parseMessage('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}');
    expect(isJsonRpcErrorResponse(err)).toBe(true);
  });

  it('keeps every key, __proto__ included', () => {
    const m = parseMessage('{"jsonrpc":"2.0","method":"x","params":{"__proto__":{"a":1}}}');
    expect(JSON.stringify(m)).toBe('{"jsonrpc":"2.0","method":"x","params":{"__proto__":{"a":1}}}');
  });

  it('keeps unknown members (tolerant reader)', () => {
    const m = parseMessage('{"jsonrpc":"2.0","method":"x","extra":1}');
    expect((m as Record<string, unknown>).extra).toBe(1);
  });

  it.each([
    ['{', 'not-json'],
    ['', 'not-json'],
    ['42', 'not-object'],
    ['null', 'not-object'],
    ['[]', 'batch'],
    ['{"jsonrpc":"1.0","id":1,"method":"x"}', 'bad-version'],
    ['{"id":1,"method":"x"}', 'bad-version'],
    ['{"jsonrpc":"2.0","id":1.5,"method":"x"}', 'bad-id'],
    ['{"jsonrpc":"2.0","id":null,"method":"x"}', 'bad-id'],
    ['{"jsonrpc":"2.0","id":{},"result":{}}', 'bad-id'],
    ['{"jsonrpc":"2.0","result":{}}', 'bad-id'],
    ['{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}', 'result-and-error'],
    ['{"jsonrpc":"2.0","id":1}', 'not-jsonrpc'],
    ['{"jsonrpc":"2.0","id":1,"method":"x","result":false}', 'method-and-response'],
    [
      '{"jsonrpc":"2.0","id":1,"method":"x","error":{"code":1,"message":"m"}}',
      'method-and-response',
    ],
    ['{"jsonrpc":"2.0","method":"x","result":{}}', 'method-and-response'],
    ['{"jsonrpc":"2.0","id":1,"method":7}', 'invalid-field'],
    ['{"jsonrpc":"2.0","id":1,"method":"x","params":"s"}', 'invalid-field'],
    ['{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}', 'invalid-field'],
  ])('rejects %s as %s', (input, issue) => {
    expect(issueOf(input)).toBe(issue);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(issueOf(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBe('not-utf8');
  });

  it('says what is wrong in the message', () => {
    expect(() => parseMessage('{"jsonrpc":"2.0","id":true,"method":"x"}')).toThrow(
      /"id" must be a string or an integer, got true/,
    );
  });
});

describe('parseMessages', () => {
  it('accepts one message or a batch', () => {
    expect(parseMessages('{"jsonrpc":"2.0","method":"a"}')).toHaveLength(1);
    expect(
      parseMessages('[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":2,"result":1}]'),
    ).toHaveLength(2);
    expect(() => parseMessages('[]')).toThrow(InvalidMessageError);
  });
});

describe('jsonRpcError', () => {
  it('builds a response that parses back', () => {
    const e = jsonRpcError(3, -32601, 'Method not found');
    expect(parseMessage(JSON.stringify(e))).toEqual(e);
  });
});

describe('parseMessage properties', () => {
  const returnsOrThrowsTyped = (input: string | Uint8Array) => {
    try {
      const m = parseMessage(input);
      expect(typeof m).toBe('object');
      expect(m.jsonrpc).toBe('2.0');
    } catch (err) {
      if (!(err instanceof InvalidMessageError)) throw err;
    }
  };

  it('arbitrary bytes: a message or InvalidMessageError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), returnsOrThrowsTyped), {
      numRuns: 2000,
    });
  });

  it('arbitrary JSON: a message or InvalidMessageError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => returnsOrThrowsTyped(JSON.stringify(v) ?? 'null')),
      { numRuns: 2000 },
    );
  });

  it('arbitrary strings: a message or InvalidMessageError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), returnsOrThrowsTyped), {
      numRuns: 2000,
    });
  });

  it('arbitrary near-messages: a message or InvalidMessageError', () => {
    const near = fc.record(
      {
        jsonrpc: fc.constantFrom('2.0', '1.0', 2),
        id: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.object()),
        method: fc.oneof(fc.string(), fc.integer()),
        params: fc.oneof(fc.object(), fc.array(fc.jsonValue()), fc.string()),
        result: fc.jsonValue(),
        error: fc.oneof(
          fc.record({ code: fc.integer(), message: fc.string() }),
          fc.record({ code: fc.string(), message: fc.integer() }),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(near, (v) => returnsOrThrowsTyped(JSON.stringify(v))),
      {
        numRuns: 3000,
      },
    );
  });

  it('accepts a result response exactly when its schema does (it skips the schema)', () => {
    const nearResult = fc.record(
      {
        jsonrpc: fc.constantFrom('2.0', '1.0', 2),
        id: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.object()),
        result: fc.jsonValue(),
      },
      { requiredKeys: ['result'] },
    );
    fc.assert(
      fc.property(nearResult, (m) => {
        const text = JSON.stringify(m);
        let accepted = true;
        try {
          parseMessage(text);
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(JsonRpcResultResponseSchema.safeParse(JSON.parse(text)).success);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a request, a notification or an error response exactly when its schema does', () => {
    const anyId = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.object());
    const call = fc.record(
      {
        jsonrpc: fc.constant('2.0'),
        id: anyId,
        method: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        params: fc.oneof(fc.object(), fc.array(fc.jsonValue()), fc.string(), fc.constant(null)),
      },
      { requiredKeys: ['method'] },
    );
    const errorResponse = fc.record({
      jsonrpc: fc.constant('2.0'),
      id: anyId,
      error: fc.oneof(
        fc.record(
          {
            code: fc.oneof(fc.integer(), fc.double(), fc.string()),
            message: fc.oneof(fc.string(), fc.integer()),
            data: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        fc.constant(null),
        fc.array(fc.integer()),
      ),
    });
    const near = fc.oneof(call, errorResponse);
    const schemaFor = (m: Record<string, unknown>) =>
      'method' in m
        ? 'id' in m
          ? JsonRpcRequestSchema
          : JsonRpcNotificationSchema
        : JsonRpcErrorResponseSchema;
    fc.assert(
      fc.property(near, (m) => {
        const text = JSON.stringify(m);
        const value = JSON.parse(text) as Record<string, unknown>;
        let accepted = true;
        try {
          parseMessage(text);
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(schemaFor(value).safeParse(value).success);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips every valid request', () => {
    const request = fc.record({
      jsonrpc: fc.constant('2.0' as const),
      id: fc.oneof(fc.string(), fc.integer()),
      method: fc.string(),
      params: fc.dictionary(fc.string(), fc.jsonValue()),
    });
    fc.assert(
      fc.property(request, (r) => {
        expect(parseMessage(JSON.stringify(r))).toEqual(JSON.parse(JSON.stringify(r)));
      }),
    );
  });
});
