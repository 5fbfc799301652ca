/** Why the proxy aborted an upstream request; the abort signal's reason. */
export class RelayAbort extends Error {
  override name = 'RelayAbort';
  readonly why: 'client-gone' | 'client-cancelled' | 'session-closed' | 'buffer-exceeded';

  constructor(why: RelayAbort['why']) {
    super(`upstream request aborted: ${why}`);
    this.why = why;
  }
}
