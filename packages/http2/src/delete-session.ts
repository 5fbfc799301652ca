import { type HttpTarget, noop, sendHttp } from './http.ts';
import type { SessionState } from './session.ts';

/** The longest `close()` waits for the server to answer its DELETE. */
const DELETE_TIMEOUT_MS = 5000;

/** DELETE ends the session on the server; 405 (not allowed) and failures are fine. */
export async function deleteSession(
  target: HttpTarget,
  session: SessionState,
): Promise<number | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DELETE_TIMEOUT_MS);
  try {
    const pending = session.deleteHeaders();
    const headers = pending instanceof Promise ? await pending : pending;
    const response = await sendHttp(target, 'DELETE', headers, controller.signal);
    await response.body.dump().catch(noop);
    return response.statusCode;
  } catch {
    // The session ends with us either way; a server that cannot hear it times it out.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
