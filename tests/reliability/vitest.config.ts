import { packageProject } from '../../vitest.project.ts';

// Real processes, faults and 10,000-session churn: the longest limits of the repository.
export default packageProject('reliability-tests', 180_000);
