import { createWriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { allQueueNames, stageNames, type BatchInfo } from '@facepipe/core';
import { batchResults, Producer, startService, toResultLine, type ResultLine, type RunningService } from '@facepipe/producer';
import { LocalStack } from '../local/local-stack.js';
import { WorkerProcesses } from '../local/worker-processes.js';
import { localStageSettings } from '../local/stage-settings.js';
import { ProgressBar } from '../ui/progress.js';
import { UsageError, type Command } from './command.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the whole pipeline locally on a folder: enroll, ingest, wait, write results',
  usage: `facepipe run <dir> [--enroll <dir>] [--out <results.jsonl>] [options]

Starts Redis (REDIS_URL, or a private redis-server), an S3-protocol store (S3_ENDPOINT, or an
embedded one storing under <data-dir>/s3) and the detect, embed and classify worker pools as
separate processes, and the HTTP service (dashboard, upload API) on a free loopback port; enrolls,
ingests <dir>, shows progress, writes results and stops everything.

Options:
  --enroll <dir>        enroll people first: one subfolder per person (folder name = name)
  --out <file>          write one JSON line per input file
  --data-dir <dir>      embedded store and logs (default ./.facepipe)
  --detect-workers <n>  detect processes (default 1); likewise --embed-workers, --classify-workers
  --force               re-process images that already have current results
  --all-files           take every file, not only image file names (others fail NOT_AN_IMAGE)
  --quiet               print no per-image lines`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        enroll: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string', default: '.facepipe' },
        'detect-workers': { type: 'string', default: '1' },
        'embed-workers': { type: 'string', default: '1' },
        'classify-workers': { type: 'string', default: '1' },
        force: { type: 'boolean', default: false },
        'all-files': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
    });
    const dir = positionals[0];
    if (!dir || positionals.length > 1) throw new UsageError('facepipe run needs exactly one folder');
    const counts = Object.fromEntries(
      stageNames.map((s) => {
        const n = Number(values[`${s}-workers`]);
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--${s}-workers must be an integer from 1 to 64`);
        return [s, n];
      }),
    ) as Record<(typeof stageNames)[number], number>;

    const dataDir = resolve(values['data-dir']!);
    const stack = await LocalStack.start({ dataDir });
    const workers = new WorkerProcesses({ FACEPIPE_METRICS_HOST: process.env.FACEPIPE_METRICS_HOST ?? '127.0.0.1', ...stack.env }, resolve(dataDir, 'logs'));
    let producer: Producer | undefined;
    let service: RunningService | undefined;
    const stopAll = async () => {
      await service?.close();
      await workers.stop();
      await producer?.close();
      await stack.stop();
    };
    const onSignal = () => {
      process.stderr.write('\nstopping…\n');
      void stopAll().then(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      process.stderr.write(`facepipe run: ${stack.describe}\n`);
      const layout = localStageSettings(cpus().length);
      for (const stage of stageNames) workers.start(stage, counts[stage], layout[stage]);
      // The run reports on the terminal; its own log lines only for warnings unless asked.
      producer = await Producer.connect(process.env.FACEPIPE_LOG_LEVEL ? stack.config : { ...stack.config, logLevel: 'warn' }, 'run');
      await waitForWorkers(producer, workers);
      process.stderr.write(`workers ready (logs in ${resolve(dataDir, 'logs')})\n`);
      // The service (upload API, dashboard) for the length of the run, on loopback.
      service = await startService({ config: stack.config, producer, host: '127.0.0.1', port: process.env.FACEPIPE_HTTP_PORT ? stack.config.http.port : 0 });
      process.stderr.write(`dashboard: ${service.url}/dashboard\n`);

      if (values.enroll) {
        const batch = await ingestAndWait(producer, workers, values.enroll, 'enroll', { force: values.force!, allFiles: values['all-files']! });
        const report = await producer.completeEnrollment(batch.id);
        const enrolled = report.items.filter((i) => i.status === 'enrolled');
        const people = new Set(enrolled.map((i) => i.person));
        process.stderr.write(`enrolled ${enrolled.length} photos of ${people.size} people (gallery v${report.galleryVersion})\n`);
        for (const item of report.items.filter((i) => i.status === 'rejected')) {
          process.stderr.write(`  not enrolled: ${item.source} (${item.person}): [${item.error?.code}] ${item.error?.message}\n`);
        }
      }

      const batch = await ingestAndWait(producer, workers, dir, 'ingest', { force: values.force!, allFiles: values['all-files']! });
      const out = values.out ? createWriteStream(resolve(values.out)) : undefined;
      for await (const { entry, result } of batchResults(producer.ctx.store, batch.id)) {
        const line = toResultLine(entry, result);
        if (out && !out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        if (!values.quiet) process.stdout.write(`${describeLine(line)}\n`);
      }
      if (out) await new Promise((r) => out.end(r));
      process.stderr.write(summary(batch) + (values.out ? `; results in ${values.out}` : '') + '\n');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await stopAll();
    }
  },
};

async function waitForWorkers(producer: Producer, workers: WorkerProcesses, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const needed = allQueueNames.filter((q) => q !== 'gallery');
  for (;;) {
    const crashed = workers.crashed();
    if (crashed) throw new Error(`worker-${crashed.stage} exited (code ${crashed.code}) while starting:\n${crashed.logTail}`);
    const counts = await Promise.all(needed.map((q) => producer.ctx.queues.byName(q).getWorkersCount()));
    if (counts.every((c) => c > 0)) return;
    if (Date.now() > deadline) throw new Error(`workers did not start within ${timeoutMs / 1000}s; see their logs`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ingestAndWait(producer: Producer, workers: WorkerProcesses, input: string, purpose: 'ingest' | 'enroll', options: { force: boolean; allFiles: boolean }): Promise<BatchInfo> {
  const label = purpose === 'enroll' ? 'enroll' : 'ingest';
  const bar = new ProgressBar(label);
  const { batchId } = await producer.ingest({ input, purpose, personFromFolder: purpose === 'enroll', ...options });
  const result = await producer.waitForBatch(batchId, (b) => {
    const crashed = workers.crashed();
    if (crashed) throw new Error(`worker-${crashed.stage} exited (code ${crashed.code}):\n${crashed.logTail}`);
    bar.update(b.done + b.failed, b.total, `${b.faces} faces${b.failed ? `, ${b.failed} failed` : ''}`);
  });
  bar.done();
  return result;
}

function describeLine(line: ResultLine): string {
  if ('error' in line) return `${line.file}: error [${line.error.code}] ${line.error.message}`;
  if (line.faces.length === 0) return `${line.file}: no faces`;
  const names = line.faces.map((f) => (f.match.name ? `${f.match.name} (${f.match.distance?.toFixed(2)})` : 'unknown'));
  return `${line.file}: ${names.join(', ')}`;
}

function summary(b: BatchInfo): string {
  const seconds = ((b.finishedAt ?? Date.now()) - b.createdAt) / 1000;
  const errors = Object.entries(b.errors).map(([code, n]) => `${code}×${n}`).join(', ');
  return `${b.total} images in ${seconds.toFixed(1)}s: ${b.done} done (${b.cached} from earlier results), ${b.failed} failed${errors ? ` (${errors})` : ''}, ${b.faces} faces`;
}
