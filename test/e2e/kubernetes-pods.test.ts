// Each Deployment of deploy/kubernetes/base run as its pod would run it, without a cluster: the
// container's arguments and environment (ConfigMap + example Secrets + env), against a real
// redis-server and S3-protocol server. Its startup, liveness and readiness probes must answer 200
// on their paths, and SIGTERM must stop it with exit 0 well within terminationGracePeriodSeconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';
import { byKind, containerEnv, containersOf, kubectlSkip, render, repoRoot, type Container, type Manifest } from '../helpers/kubernetes-manifests.js';

/** A free TCP port: the manifests' fixed ports (8080, 9464) may be taken on a shared machine. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor200(url: string, deadlineMs: number, exited: () => string | undefined): Promise<void> {
  let last = 'no answer';
  while (performance.now() < deadlineMs) {
    const gone = exited();
    if (gone) assert.fail(`the process exited before ${url} answered: ${gone}`);
    const res = await fetch(url).catch((err: Error) => err);
    if (!(res instanceof Error)) {
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } else {
      last = res.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`${url} did not answer 200 in time (last: ${last})`);
}

describe('the base Deployments run as their pods would', { skip: kubectlSkip }, () => {
  let redis: TestRedis;
  let s3: TestS3;
  let all: Manifest[] = [];
  before(async () => {
    all = render('base');
    [redis, s3] = await Promise.all([startRedis(), startS3('facepipe-k8s-test')]);
  });
  after(async () => {
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
  });

  const roles = ['facepipe-worker-detect', 'facepipe-worker-embed', 'facepipe-worker-classify', 'facepipe-service'];
  for (const name of roles) {
    test(`${name}: probes answer, SIGTERM exits 0 within the grace period`, { timeout: 180_000 }, async () => {
      const deployment = byKind(all, 'Deployment').find((d) => d.metadata.name === name);
      assert.ok(deployment, `no Deployment ${name}`);
      const c: Container = containersOf(deployment)[0]!;
      const port = await freePort();
      const portSetting = name === 'facepipe-service' ? 'FACEPIPE_HTTP_PORT' : 'FACEPIPE_METRICS_PORT';
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...containerEnv(all, c),
        // Where the Secrets would point in a cluster: here, this test's servers.
        REDIS_URL: redis.url,
        ...s3.env,
        [portSetting]: String(port),
      };
      // The example database is not reachable here; the face index has an embedded default.
      delete env.DATABASE_URL;
      // The image's ENTRYPOINT is `node /app/packages/cli/dist/main.js`; the Deployment gives the args.
      const child = spawn(process.execPath, [`${repoRoot}/packages/cli/dist/main.js`, ...(c.args ?? [])], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
        exit = { code, signal };
        resolve();
      }));
      try {
        const base = `http://127.0.0.1:${port}`;
        const startupS = (c.startupProbe?.periodSeconds ?? 10) * (c.startupProbe?.failureThreshold ?? 3);
        const alive = () => (exit ? `exit ${exit.code ?? exit.signal}; stderr:\n${stderr}` : undefined);
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
          if (!probe?.httpGet) continue;
          // Models load before /readyz turns 200: allow the startup probe's whole budget, twice
          // over on a shared machine.
          await waitFor200(`${base}${probe.httpGet.path}`, performance.now() + 2 * startupS * 1000 + 60_000, alive);
        }
        const graceS = deployment.spec.template.spec.terminationGracePeriodSeconds as number;
        const t0 = performance.now();
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceS * 1000))]);
        assert.ok(exit, `still running ${graceS} s after SIGTERM; stderr:\n${stderr}`);
        assert.equal(exit.code, 0, `exit after SIGTERM: ${exit.code ?? exit.signal}; stderr:\n${stderr}`);
        assert.ok(performance.now() - t0 < graceS * 1000);
      } finally {
        if (!exit) child.kill('SIGKILL');
        await exited;
      }
    });
  }
});
