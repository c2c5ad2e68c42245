// Shared by the tests of deploy/kubernetes: render a kustomization with `kubectl kustomize`, look
// objects up, and compute the environment a container would get (with the example Secrets).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const deployDir = `${repoRoot}/deploy/kubernetes`;

/** The loosely typed view of a manifest the tests need. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are checked by schema first
  spec?: any;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
/** false, or why the manifests cannot be rendered here. */
export const kubectlSkip = kubectl ? false : 'kubectl is not installed: cannot render the kustomizations (install kubectl, which bundles kustomize)';

export function render(dir: string): Manifest[] {
  const out = spawnSync('kubectl', ['kustomize', `${deployDir}/${dir}`], { encoding: 'utf8' });
  assert.equal(out.status, 0, `kubectl kustomize ${dir} failed:\n${out.stderr}`);
  return parseYaml(out.stdout);
}

export function parseYaml(text: string): Manifest[] {
  return parseAllDocuments(text).map((doc) => {
    assert.equal(doc.errors.length, 0, doc.errors.join('\n'));
    return doc.toJS() as Manifest;
  });
}

export const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
export const named = (ms: Manifest[], kind: string, name: string) => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `no ${kind} named ${name}`);
  return found;
};
export const containersOf = (d: Manifest) => d.spec.template.spec.containers as Container[];
export const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export const exampleSecrets = parseYaml(readFileSync(`${deployDir}/examples/secrets.yaml`, 'utf8'));
export const secretKeys = (name: string) => Object.keys(named(exampleSecrets, 'Secret', name).stringData ?? {});
/** The environment a container would get, with the example Secrets' values. */
export function containerEnv(all: Manifest[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named(all, 'ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, named(exampleSecrets, 'Secret', from.secretRef.name).stringData);
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef;
    if (ref) {
      const value = named(exampleSecrets, 'Secret', ref.name).stringData?.[ref.key];
      assert.ok(value !== undefined, `${c.name}: ${v.name} refers to key ${ref.key} of Secret ${ref.name}, which examples/secrets.yaml does not have`);
      env[v.name] = value;
    } else {
      env[v.name] = v.value ?? '';
    }
  }
  return env;
}
