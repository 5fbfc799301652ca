/**
 * Sampling heap profiles of live memory (`HeapProfiler.startSampling` through node:inspector):
 * taken a few times after a window opens, the largest kept, so the scale scenario can say which
 * code holds the memory while 10,000 calls are in flight. Summarised by allocation site.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { packageOf } from './profile-summary.ts';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

interface SamplingHeapProfile {
  head: HeapNode;
}

function totalSize(node: HeapNode): number {
  return node.children.reduce((sum, child) => sum + totalSize(child), node.selfSize);
}

/** Starts sampling; after each delay takes a profile; writes the largest to `file`. */
export async function sampleLiveHeap(file: string, delaysMs: number[]): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384 });
  let best: SamplingHeapProfile | undefined;
  let bestSize = 0;
  let elapsed = 0;
  for (const delay of delaysMs) {
    await new Promise((resolve) => setTimeout(resolve, delay - elapsed));
    elapsed = delay;
    const { profile } = (await session.post('HeapProfiler.getSamplingProfile')) as {
      profile: SamplingHeapProfile;
    };
    const size = totalSize(profile.head);
    if (size > bestSize) {
      best = profile;
      bestSize = size;
    }
  }
  await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  if (best) writeFileSync(file, JSON.stringify(best));
}

export async function summariseHeapProfile(file: string, top = 12): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as SamplingHeapProfile;
  const byPackage = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapNode, parentSite: string): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    const site = `${functionName || '(anonymous)'}${url ? ` ${path.basename(url)}:${lineNumber + 1}` : ''} [${pkg}]`;
    if (node.selfSize > 0) {
      total += node.selfSize;
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.selfSize);
      // Native allocations are charged to the JS function that called them.
      const key = url === '' && parentSite !== '' ? `${site} < ${parentSite}` : site;
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child, url === '' ? parentSite : site);
  };
  visit(profile.head, '');
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `### ${path.basename(file, '.heapprofile')}: live heap sampled at its largest, ${mb(total)}`,
    '',
    `By package: ${sorted(byPackage)
      .map(([name, size]) => `${name} ${mb(size)}`)
      .join(', ')}`,
    '',
    'Top allocation sites (live bytes):',
    '',
    ...sorted(bySite).map(([name, size]) => `- ${mb(size)} ${name}`),
  ].join('\n');
}
