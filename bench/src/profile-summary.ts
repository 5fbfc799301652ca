/**
 * Summarises a V8 `.cpuprofile`: self time by package (node_modules package, our workspace
 * package, or Node internals) and the top functions by self time.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[1] ?? url.slice(5)}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (workspace?.[2]) return workspace[1] === 'packages' ? `@mcp/${workspace[2]}` : workspace[2];
  if (url.includes('/bench/src/')) return 'bench harness';
  return url;
}

function share(part: number, total: number): string {
  return `${((part / total) * 100).toFixed(1)}%`;
}

async function readWindows(file: string): Promise<Array<[number, number]> | undefined> {
  try {
    const windows = JSON.parse(
      await readFile(file.replace(/\.cpuprofile$/, '.windows.json'), 'utf8'),
    ) as Array<[number, number]>;
    return windows.length > 0 ? windows : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Summarises one profile. When the process wrote its measured windows, only samples inside them
 * count (no start-up, warm-up or shutdown).
 */
export async function summariseProfile(file: string, top = 12): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const windows = await readWindows(file);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows && !windows.some(([start, end]) => at >= start && at <= end)) return;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, time] of selfTime) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    total += time;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + time);
    const where = url === '' ? '' : ` ${path.basename(url)}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'}${where} [${pkg}]`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  }
  if (total === 0) return `### ${path.basename(file)}\n\nno samples`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `### ${path.basename(file, '.cpuprofile')} (${(total / 1000).toFixed(0)} ms busy${windows ? ' in measured windows' : ', whole process'})`,
    '',
    `By package: ${sorted(byPackage)
      .map(([name, time]) => `${name} ${share(time, total)}`)
      .join(', ')}`,
    '',
    'Top functions (self time):',
    '',
    ...sorted(byFunction).map(([name, time]) => `- ${share(time, total)} ${name}`),
  ].join('\n');
}
