import { packageProject } from '../../vitest.project.ts';

export default packageProject('demo-proxy', 60_000);
