import { packageProject } from '../../vitest.project.ts';

export default packageProject('release-tests');
