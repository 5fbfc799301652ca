import { packageProject } from '../../vitest.project.ts';

export default packageProject('real-peer-tests', 120_000);
