import { packageProject } from '../../vitest.project.ts';

// nginx and replica processes: longer limits than a unit test (a hang still fails).
export default packageProject('cluster-tests', 60_000);
