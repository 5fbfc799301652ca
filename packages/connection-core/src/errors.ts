/**
 * Every failure a user of these packages can see is one of these classes. Match on `err.code`
 * (stable across releases) or `instanceof`; the underlying failure, when there is one, is kept
 * as `cause` and never pasted into the message.
 */

export * from './errors/base.ts';
export * from './errors/protocol.ts';
export * from './errors/request.ts';
export * from './errors/transport.ts';
export * from './errors/usage.ts';
