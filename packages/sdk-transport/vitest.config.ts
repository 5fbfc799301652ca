import { packageProject } from '../../vitest.project.ts';

export default packageProject('@mcp/sdk-transport');
