export * from './channels.ts';
export * from './options.ts';
export { originOf } from './origin.ts';
export * from './origin-pool.ts';
export * from './stats.ts';
