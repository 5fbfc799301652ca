/**
 * Imported first by every package's entry point (`@mcp/connection-core/node-guard`): on a
 * Node.js older than MIN_NODE_VERSION the import throws one UnsupportedNodeError naming the
 * version needed, before undici or any other dependency loads and fails in a stranger way.
 */
import { assertSupportedNode } from './node-version.ts';

assertSupportedNode();
