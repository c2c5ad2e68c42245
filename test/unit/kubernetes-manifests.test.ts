// The Kubernetes manifests (deploy/kubernetes): rendered with `kubectl kustomize`, validated
// against the Kubernetes and KEDA schemas (kubernetes-models), and checked against facepipe itself:
// selectors, probe ports, scale targets, queue names and prefix, settings, shutdown timings.
// The last test adds jobs the way facepipe does on a real redis-server and reads the very lists
// the KEDA triggers name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { allQueueNames, closeRedis, createRedisConnection, envSchema, JobName, loadConfig, PipelineQueues, QueueName, stageJobOptions } from '@facepipe/core';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import {
  byKind,
  containerEnv,
  containersOf,
  exampleSecrets,
  kubectlSkip as skip,
  matches,
  named,
  render,
  repoRoot as root,
  secretKeys,
  type Manifest,
} from '../helpers/kubernetes-manifests.js';

/** The kubernetes-models class of a manifest, by apiVersion and kind. */
async function modelOf(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const path = group === 'keda.sh' ? `@kubernetes-models/keda/keda.sh/${version}/${m.kind}` : `kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`;
  const mod = (await import(path).catch(() => assert.fail(`no schema for ${m.apiVersion} ${m.kind} (${path})`))) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = mod[m.kind];
  assert.ok(model, `${path} exports no ${m.kind}`);
  return model;
}

/** The queues each role's process consumes (see the worker packages' *-worker.ts). */
const poolQueues: Record<string, string[]> = {
  'worker-detect': [QueueName.Detect],
  'worker-embed': [QueueName.Embed],
  'worker-classify': [QueueName.Classify, QueueName.Gallery],
};
/** The redis scaler's trigger metadata and authentication parameters (keda.sh/docs/2.15/scalers/redis-lists): KEDA's schema types both as free maps. */
const redisTriggerKeys = new Set(['address', 'host', 'port', 'addressFromEnv', 'hostFromEnv', 'portFromEnv', 'usernameFromEnv', 'passwordFromEnv', 'listName', 'listLength', 'activationListLength', 'enableTLS', 'unsafeSsl', 'databaseIndex']);
const redisAuthParameters = new Set(['address', 'host', 'port', 'username', 'password', 'tls', 'ca', 'cert', 'key', 'keyPassword']);
/** Queues the HTTP service consumes itself (scheduled maintenance, webhook deliveries): no pool to scale. */
const serviceQueues: string[] = [QueueName.Maintenance, QueueName.Webhooks];
const roleArgs: Record<string, string[]> = {
  service: ['serve'],
  'worker-detect': ['worker', 'detect'],
  'worker-embed': ['worker', 'embed'],
  'worker-classify': ['worker', 'classify'],
};

/** A literal millisecond count from a source file (the shutdown timings the grace periods must outlast). */
function msFromSource(file: string, pattern: RegExp): number {
  const match = readFileSync(`${root}/${file}`, 'utf8').match(pattern);
  assert.ok(match, `cannot find ${pattern} in ${file}: update this test with the new shutdown timing`);
  return Number(match[1]!.replaceAll('_', ''));
}

/** Settings the deploy files may set that the env schema does not list yet (the face-index issue adds it). */
const pendingSettings = new Set(['DATABASE_URL']);

for (const overlay of ['base', 'overlays/gpu']) {
  describe(`deploy/kubernetes/${overlay}`, { skip }, () => {
    let all: Manifest[] = [];
    before(() => {
      all = render(overlay);
    });

    test('every manifest validates against the Kubernetes and KEDA schemas', async () => {
      assert.ok(all.length >= 10, `only ${all.length} manifests rendered`);
      for (const m of all) {
        const Model = await modelOf(m);
        assert.doesNotThrow(() => new Model(m).validate(), `${m.kind} ${m.metadata.name}`);
      }
    });

    test('one Deployment per role, all from the one image, each with its own role arguments', () => {
      const deployments = byKind(all, 'Deployment');
      assert.deepEqual(deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/component']).sort(), Object.keys(roleArgs).sort());
      for (const d of deployments) {
        const role = d.metadata.labels!['app.kubernetes.io/component']!;
        const [container, ...others] = containersOf(d);
        assert.equal(others.length, 0, `${d.metadata.name}: one container`);
        assert.deepEqual(container!.args, roleArgs[role], `${d.metadata.name} runs ${container!.args?.join(' ')}`);
        assert.match(container!.image, /^facepipe(:|$)/, `${d.metadata.name} uses the facepipe image`);
        assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name}: selector matches its pod labels`);
      }
    });

    test('probes: liveness on /healthz, readiness on /readyz, on a port the container declares and facepipe listens on', () => {
      for (const d of byKind(all, 'Deployment')) {
        const c = containersOf(d)[0]!;
        const env = containerEnv(all, c);
        const config = loadConfig(env);
        const listens = d.metadata.labels!['app.kubernetes.io/component'] === 'service' ? config.http.port : config.metricsPort;
        assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${d.metadata.name} liveness`);
        assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${d.metadata.name} readiness`);
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          if (!probe) continue;
          const port = probe.httpGet!.port;
          const declared = c.ports?.find((p) => p.name === port || p.containerPort === port);
          assert.ok(declared, `${d.metadata.name}: probe port ${port} is not a container port`);
          assert.equal(declared.containerPort, listens, `${d.metadata.name}: probes port ${declared.containerPort}, facepipe listens on ${listens}`);
        }
      }
    });

    test('every setting is one facepipe knows, and every role starts with its settings', () => {
      const known = new Set(Object.keys(envSchema.shape));
      for (const d of byKind(all, 'Deployment')) {
        const c = containersOf(d)[0]!;
        const env = containerEnv(all, c);
        for (const name of Object.keys(env)) assert.ok(known.has(name) || pendingSettings.has(name), `${d.metadata.name}: ${name} is not in the env schema`);
        assert.doesNotThrow(() => loadConfig(env), `${d.metadata.name}: its settings do not validate`);
      }
      const service = containerEnv(all, containersOf(named(all, 'Deployment', 'facepipe-service'))[0]!);
      assert.ok(service.FACEPIPE_API_TOKEN, 'the service listens on 0.0.0.0 and needs FACEPIPE_API_TOKEN');
    });

    test('grace periods outlast facepipe\'s own shutdown (active jobs finish before Kubernetes kills)', () => {
      const workerForceMs = msFromSource('packages/core/src/runtime/shutdown.ts', /forceAfterMs \?\? ([\d_]+)/);
      const serviceForceMs = msFromSource('packages/service/src/serve.ts', /forceAfterMs: ([\d_]+)/);
      for (const d of byKind(all, 'Deployment')) {
        const spec = d.spec.template.spec;
        const isService = d.metadata.labels!['app.kubernetes.io/component'] === 'service';
        const preStopS = containersOf(d)[0]!.lifecycle?.preStop?.sleep?.seconds ?? 0;
        const needS = (isService ? serviceForceMs : workerForceMs) / 1000 + preStopS;
        assert.ok(spec.terminationGracePeriodSeconds > needS, `${d.metadata.name}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} must exceed ${needS} s`);
      }
    });

    test('each Deployment has a PodDisruptionBudget, and the Service selects the HTTP service pods', () => {
      const deployments = byKind(all, 'Deployment');
      for (const pdb of byKind(all, 'PodDisruptionBudget')) {
        const covered = deployments.filter((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
        assert.equal(covered.length, 1, `PodDisruptionBudget ${pdb.metadata.name} selects ${covered.length} Deployments`);
      }
      for (const d of deployments) {
        assert.ok(
          byKind(all, 'PodDisruptionBudget').some((pdb) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels)),
          `${d.metadata.name} has no PodDisruptionBudget`,
        );
      }
      for (const svc of byKind(all, 'Service')) {
        const targets = deployments.filter((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
        assert.deepEqual(targets.map((d) => d.metadata.name), ['facepipe-service'], `Service ${svc.metadata.name} selects the HTTP service`);
        for (const port of svc.spec.ports) {
          assert.ok(containersOf(targets[0]!)[0]!.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort), `Service port ${port.name}: no container port ${port.targetPort}`);
        }
      }
    });

    test('KEDA scales each pool on its own queues\' BullMQ wait lists, under facepipe\'s prefix', () => {
      const prefix = named(all, 'ConfigMap', 'facepipe-config').data!.FACEPIPE_REDIS_PREFIX!;
      assert.ok(prefix);
      const scaled = byKind(all, 'ScaledObject');
      const consumed = [...Object.values(poolQueues).flat(), ...serviceQueues].sort();
      assert.deepEqual(consumed, [...allQueueNames].sort(), 'every queue is a pool\'s (with a ScaledObject) or the service\'s: decide how a new queue scales');
      for (const [role, queues] of Object.entries(poolQueues)) {
        const deployment = named(all, 'Deployment', `facepipe-${role}`);
        assert.equal(deployment.spec.replicas, undefined, `${deployment.metadata.name}: replicas belong to KEDA`);
        const mine = scaled.filter((s) => s.spec.scaleTargetRef.name === deployment.metadata.name);
        assert.equal(mine.length, 1, `${deployment.metadata.name} has ${mine.length} ScaledObjects`);
        const so = mine[0]!;
        assert.ok(so.spec.scaleTargetRef.kind === undefined || so.spec.scaleTargetRef.kind === 'Deployment');
        const lists = (so.spec.triggers as { type: string; metadata: Record<string, string> }[]).map((t) => {
          assert.equal(t.type, 'redis', `${so.metadata.name}: a redis list trigger`);
          for (const key of Object.keys(t.metadata)) assert.ok(redisTriggerKeys.has(key), `${so.metadata.name}: ${key} is not a redis scaler parameter`);
          assert.ok(Number(t.metadata.listLength) > 0, `${so.metadata.name}: listLength`);
          return t.metadata.listName;
        });
        assert.deepEqual(lists.sort(), queues.map((q) => `${prefix}:${q}:wait`).sort(), `${so.metadata.name} watches its own queues`);
        for (const q of queues) assert.ok((allQueueNames as readonly string[]).includes(q));
        assert.ok(so.spec.minReplicaCount <= so.spec.maxReplicaCount);
      }
      for (const so of scaled) {
        named(all, 'Deployment', so.spec.scaleTargetRef.name);
        for (const t of so.spec.triggers as { authenticationRef?: { name: string } }[]) {
          const auth = named(all, 'TriggerAuthentication', t.authenticationRef!.name);
          for (const ref of auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[]) {
            assert.ok(redisAuthParameters.has(ref.parameter), `TriggerAuthentication ${auth.metadata.name}: ${ref.parameter} is not a redis scaler authentication parameter`);
            assert.ok(secretKeys(ref.name).includes(ref.key), `TriggerAuthentication ${auth.metadata.name}: Secret ${ref.name} has no key ${ref.key} in examples/secrets.yaml`);
          }
        }
      }
    });

    test('NetworkPolicies: Redis, PostgreSQL and S3 pods take connections only from facepipe\'s pods (KEDA\'s operator too for Redis), on their ports', () => {
      const facepipePods = byKind(all, 'Deployment').map((d) => d.spec.template.metadata.labels as Record<string, string>);
      const storePorts: Record<string, number[]> = { redis: [6379], postgres: [5432], s3: [443, 9000] };
      for (const [store, ports] of Object.entries(storePorts)) {
        const policies = byKind(all, 'NetworkPolicy').filter((p) => p.spec.podSelector?.matchLabels?.['facepipe.dev/store'] === store);
        assert.equal(policies.length, 1, `one NetworkPolicy selects the ${store} pods (facepipe.dev/store: ${store})`);
        const policy = policies[0]!;
        assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
        assert.ok(policy.spec.ingress?.length > 0, `${policy.metadata.name}: an ingress rule (none would shut out facepipe too)`);
        for (const rule of policy.spec.ingress as { from?: Record<string, { matchLabels?: Record<string, string> }>[]; ports?: { port: number }[] }[]) {
          assert.deepEqual((rule.ports ?? []).map((p) => p.port).sort((a, b) => a - b), ports, `${policy.metadata.name}: only the ${store} port`);
          assert.ok((rule.from ?? []).length > 0, `${policy.metadata.name}: every rule names its clients (a rule without \`from\` lets everyone in)`);
          for (const peer of rule.from!) {
            assert.ok(!('ipBlock' in peer), `${policy.metadata.name}: no IP ranges`);
            const pods = peer.podSelector?.matchLabels ?? {};
            assert.ok(Object.keys(pods).length > 0, `${policy.metadata.name}: a peer selects some pods, never all`);
            if (peer.namespaceSelector) {
              assert.equal(store, 'redis', 'only Redis lets another namespace in (KEDA reads the wait lists)');
              assert.deepEqual(peer.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': 'keda' });
              assert.deepEqual(pods, { app: 'keda-operator' });
              continue;
            }
            assert.ok(facepipePods.every((labels) => matches(pods, labels)), `${policy.metadata.name}: every facepipe pod is let in`);
            assert.ok(!matches(pods, { 'facepipe.dev/store': store }), `${policy.metadata.name}: the peer is facepipe's pods, not any pod of the namespace`);
          }
        }
      }
    });

    test(overlay === 'base' ? 'no pod asks for a GPU' : 'the embed pool, and only it, runs on GPU nodes with CUDA', () => {
      for (const d of byKind(all, 'Deployment')) {
        const c = containersOf(d)[0]!;
        const gpu = c.resources?.limits?.['nvidia.com/gpu'];
        const wantsGpu = overlay !== 'base' && d.metadata.name === 'facepipe-worker-embed';
        const provider = loadConfig(containerEnv(all, c)).inference.executionProvider;
        if (wantsGpu) {
          assert.equal(Number(gpu), 1, 'one GPU per embed pod');
          assert.equal(provider, 'cuda');
          assert.ok(Object.keys(d.spec.template.spec.nodeSelector ?? {}).length > 0, 'a nodeSelector for the GPU pool');
          assert.ok((d.spec.template.spec.tolerations ?? []).some((t: { key?: string }) => t.key === 'nvidia.com/gpu'), 'tolerates the GPU taint');
          assert.notEqual(c.image, containersOf(named(all, 'Deployment', 'facepipe-worker-detect'))[0]!.image, 'the CUDA build of the image');
        } else {
          assert.equal(gpu, undefined, `${d.metadata.name} asks for no GPU`);
          assert.equal(provider, 'cpu', `${d.metadata.name} runs on CPU`);
        }
      }
    });
  });
}

test('the example Secrets validate and carry only settings facepipe knows (plus KEDA\'s Redis address)', async () => {
  const known = new Set(Object.keys(envSchema.shape));
  for (const s of exampleSecrets) {
    const Model = await modelOf(s);
    new Model(s).validate();
    for (const key of Object.keys(s.stringData ?? {})) {
      const forKeda = s.metadata.name === 'facepipe-redis' && (key === 'address' || key === 'password');
      assert.ok(known.has(key) || pendingSettings.has(key) || forKeda, `Secret ${s.metadata.name}: ${key} is not a facepipe setting`);
    }
  }
  // Every store is reached with credentials: Redis AUTH, a PostgreSQL role with a password, S3 keys.
  const setting = (secret: string, key: string) => named(exampleSecrets, 'Secret', secret).stringData![key]!;
  assert.notEqual(new URL(setting('facepipe-redis', 'REDIS_URL')).password, '', 'REDIS_URL carries the Redis password (AUTH)');
  assert.equal(new URL(setting('facepipe-redis', 'REDIS_URL')).password, setting('facepipe-redis', 'password'), 'KEDA authenticates with the same password');
  const database = new URL(setting('facepipe-database', 'DATABASE_URL'));
  assert.ok(database.username && database.username !== 'postgres' && database.password, 'DATABASE_URL names a role of its own with a password, not the superuser');
  assert.ok(setting('facepipe-s3', 'S3_SECRET_ACCESS_KEY'), 'S3 keys');
});

test('facepipe adds no prioritized jobs (KEDA\'s triggers count only the wait lists)', () => {
  const sources = spawnSync('grep', ['-rlE', '\\bpriority\\s*:', 'packages', '--include=*.ts', '--exclude-dir=dist', '--exclude-dir=node_modules'], { cwd: root, encoding: 'utf8' });
  assert.equal(sources.status, 1, `job priorities in ${sources.stdout.trim()}: prioritized jobs wait in a sorted set, so count them in deploy/kubernetes/base/keda-scaledobjects.yaml (Prometheus scaler on state=~"waiting|prioritized") first`);
});

describe('the lists KEDA reads are where facepipe\'s jobs wait (real redis-server)', () => {
  let server: TestRedis;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  test('a job added with facepipe\'s options lands in <prefix>:<queue>:wait, paused queue included', { skip }, async () => {
    const prefix = named(render('base'), 'ConfigMap', 'facepipe-config').data!.FACEPIPE_REDIS_PREFIX!;
    const redis = createRedisConnection(server.url, 'client');
    const queues = new PipelineQueues(redis, prefix, { attempts: 5, keepCompleted: 1000, keepFailed: 10_000 });
    try {
      const jobNames: Record<string, string> = {
        detect: JobName.DetectImage,
        embed: JobName.EmbedFaces,
        classify: JobName.ClassifyFaces,
        gallery: JobName.GalleryBuild,
        maintenance: JobName.ScheduledReindex,
        webhooks: JobName.WebhookDelivery,
      };
      for (const name of allQueueNames) {
        assert.ok(jobNames[name], `a job name for queue ${name}`);
        const list = `${prefix}:${name}:wait`;
        await queues.byName(name).add(jobNames[name]!, { probe: true }, stageJobOptions({ attempts: 5, keepCompleted: 1000, keepFailed: 10_000 }, `probe_${name}`));
        assert.equal(await redis.llen(list), 1, `LLEN ${list}`);
        await queues.byName(name).pause();
        await queues.byName(name).add(jobNames[name]!, { probe: true }, stageJobOptions({ attempts: 5, keepCompleted: 1000, keepFailed: 10_000 }, `probe2_${name}`));
        assert.equal(await redis.llen(list), 2, `LLEN ${list} while paused`);
        await queues.byName(name).resume();
      }
      // BullMQ keeps prioritized jobs out of the wait list, where the triggers would not see them.
      await queues.detect.add(JobName.DetectImage, { probe: true }, { jobId: 'probe_prioritized', priority: 1 });
      assert.equal(await redis.llen(`${prefix}:detect:wait`), 2, 'a prioritized job is not in the wait list');
      assert.equal(await redis.zcard(`${prefix}:detect:prioritized`), 1);
    } finally {
      await queues.close();
      await closeRedis(redis);
    }
  });
});
