import type { DownstreamRequest } from './http-types.ts';

/** The body was larger than the limit; the rest was not read. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** The body did not arrive in full within the time limit; the rest was not read. */
export class BodyTimeoutError extends Error {
  override name = 'BodyTimeoutError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`Request body not complete within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The client went away (reset, closed) before its body was complete. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('The client went away before its request body was complete');
  }
}

/**
 * Reads a request body, at most `limit` bytes, within `timeoutMs`. A Content-Length over the
 * limit is refused before reading anything. On any failure reading stops (the request is
 * paused, not destroyed, so the caller can still answer).
 */
export function readBody(
  req: DownstreamRequest,
  limit: number,
  timeoutMs: number,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const stop = (error: Error | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      req.off('aborted', onClose);
      if (error === undefined) {
        resolve(Buffer.concat(chunks, size));
      } else {
        req.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) stop(new BodyTooLargeError(limit));
      else chunks.push(chunk);
    };
    // A reset HTTP/2 stream ends its request too, and says it was aborted only just after:
    // look once the reset has been processed.
    const onEnd = (): void => {
      if (req.httpVersionMajor === 1) stop(undefined);
      else setImmediate(() => stop(req.aborted ? new ClientGoneError() : undefined));
    };
    const onClose = (): void => stop(new ClientGoneError());
    const timer = setTimeout(() => stop(new BodyTimeoutError(timeoutMs)), timeoutMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onClose);
    req.once('aborted', onClose);
  });
}
