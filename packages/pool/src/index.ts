import '@mcp/connection-core/node-guard';

export * from './channels.ts';
export * from './default-factory.ts';
export * from './options.ts';
export { originOf } from './origin.ts';
export * from './origin-pool.ts';
export * from './stats.ts';
