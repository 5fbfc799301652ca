import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseProxyConfig } from '../config.ts';

const dir = new URL('../../../../deploy/kubernetes/', import.meta.url);
const load = async (name: string) =>
  parseAllDocuments(await readFile(new URL(name, dir), 'utf8')).map((d) => d.toJS());

describe('the Kubernetes example (deploy/kubernetes)', () => {
  it('configures sealed sessions from the Secret, readiness on /readyz, key files not world-readable', async () => {
    const [configMap] = await load('configmap.yaml');
    const [secret] = await load('secret.yaml');
    const [deployment] = await load('deployment.yaml');
    const [service] = await load('service.yaml');

    const config = parseProxyConfig(parse(configMap.data['proxy.yaml']));
    const keys = config.sessions.sealingKeys ?? [];
    expect(keys.length).toBeGreaterThan(0);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const keysMount = container.volumeMounts.find((m: { name: string }) => m.name === 'keys');
    for (const key of keys) {
      expect(key).toHaveProperty('secretFile', `${keysMount.mountPath}/${key.id}`);
      expect(Object.keys(secret.stringData)).toContain(key.id);
    }
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'keys');
    expect(volume.secret.secretName).toBe(secret.metadata.name);
    expect(volume.secret.defaultMode & 0o004).toBe(0);
    expect(container.command.at(-1)).toBe(
      `${container.volumeMounts.find((m: { name: string }) => m.name === 'config').mountPath}`,
    );
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.ports[0].containerPort).toBe(config.listen.port);
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    expect(service.spec.sessionAffinity).toBe('None');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });
});
