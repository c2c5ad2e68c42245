import { constants, createWriteStream, mkdirSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { describeInputSkips, type BatchInfo, type InputSkipReason } from '@facepipe/core';
import { ingestAndWait, LocalDeployment, runningDeployment, secureDataDir, type WorkerProcesses } from '@facepipe/devstack';
import { openLibrary, type OpenedLibrary } from '@facepipe/face-index';
import { batchResults, toResultLine, type Producer, type ResultLine } from '@facepipe/producer';
import { plural, ProgressBar } from '../ui/progress.js';
import { onInterrupt } from '../ui/interrupt.js';
import { routeCommandLogs } from '../ui/log-routing.js';
import { UsageError, type Command } from './command.js';
import { connectProducer } from './deployment.js';
import { parseWorkerCounts, workerCountOptions, workerCountUsage } from './worker-counts.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the whole pipeline locally on a folder: enroll, ingest, wait, write results',
  usage: `facepipe run <dir> [--enroll <dir>] [--out <results.jsonl>] [options]

"up, ingest, wait, print, down" in one command: starts a local deployment (as \`facepipe up\` does,
in this process) — Redis (REDIS_URL, or a private redis-server), an S3-protocol store
(S3_ENDPOINT, or an embedded one storing under <data-dir>/s3), the detect, embed and classify
pools as separate processes and the HTTP service (dashboard, upload API) on a free loopback
port — enrolls, ingests <dir>, shows progress, writes results and stops everything. When a
deployment started by \`facepipe up\` is running in <data-dir>, the job runs on it instead and
leaves it running.

Options:
  --enroll <dir>        enroll people first: one subfolder per person (folder name = name)
  --out <file>          write one JSON line per input file
  --data-dir <dir>      embedded stores and logs (default ./.facepipe)
${workerCountUsage}
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
        ...workerCountOptions,
        force: { type: 'boolean', default: false },
        'all-files': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
    });
    const dir = positionals[0];
    if (!dir || positionals.length > 1) throw new UsageError('facepipe run needs exactly one folder');
    const counts = parseWorkerCounts(values);
    const dataDir = resolve(values['data-dir']);
    // Everything the job needs from the disk is checked before the stack starts (that takes a while).
    await checkInputs(dir, values.enroll, values.out);

    let deployment: LocalDeployment | undefined;
    let producer: Producer | undefined;
    let library: OpenedLibrary | undefined;
    const stopAll = async () => {
      await library?.close();
      if (deployment) await deployment.stop();
      else await producer?.close();
    };
    // Ctrl-C: a deployment this run started stops with it (its batch with it); one started by
    // `facepipe up` keeps the batch going. A second Ctrl-C exits at once.
    const progress: { batchId?: string } = {};
    const interrupted = onInterrupt(() => {
      ProgressBar.endAll();
      if (deployment) return 'stopping the local deployment (the workers finish what they hold); run the same command again to finish: inputs already done are answered from their results';
      return progress.batchId ? `stopped waiting; batch ${progress.batchId} goes on in the local deployment. Follow it with: facepipe status ${progress.batchId}` : 'stopped';
    }, stopAll);
    try {
      if (!process.env.REDIS_URL && runningDeployment(dataDir)) {
        producer = await connectProducer('run', dataDir);
        process.stderr.write(`facepipe run: using the local deployment running in ${dataDir} (facepipe up); it keeps running\n`);
      } else {
        secureDataDir(dataDir);
        mkdirSync(join(dataDir, 'logs'), { recursive: true });
        routeCommandLogs(dataDir);
        deployment = await LocalDeployment.start({ dataDir, workers: counts });
        producer = deployment.producer;
        process.stderr.write(`facepipe run: ${deployment.stack.describe}\n`);
        process.stderr.write(`workers ready (logs in ${deployment.logDir})\n`);
        process.stderr.write(`dashboard: ${deployment.dashboardUrl}\n`);
      }
      const workers = deployment?.workers;
      const options = { force: values.force, allFiles: values['all-files'] };
      if (values.enroll) {
        await follow(producer, workers, values.enroll, 'enroll', options, progress);
      }
      const batch = await follow(producer, workers, dir, 'ingest', options, progress);
      // The face index of this deployment: names set since, and each unnamed face's cluster.
      library = await openLibrary({ dataDir, env: { ...process.env, ...(deployment?.env ?? {}) } });
      const out = values.out ? createWriteStream(resolve(values.out)) : undefined;
      for await (const { entry, result, faces } of batchResults(producer.ctx.store, batch.id, 16, library.index)) {
        const line = toResultLine(entry, result, faces);
        if (out && !out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        if (!values.quiet) process.stdout.write(`${describeLine(line)}\n`);
      }
      if (out) await new Promise((r) => out.end(r));
      process.stderr.write(summary(batch) + (values.out ? `; results in ${values.out}` : '') + '\n');
      return 0;
    } finally {
      interrupted.dispose();
      await stopAll();
    }
  },
};

/**
 * The folders and the output file of a run, checked up front: a missing folder fails with its
 * file error (exit 4), an --enroll that is not a folder or an --out in a missing folder is wrong
 * usage. s3:// inputs are checked by the ingest itself.
 */
async function checkInputs(input: string, enroll: string | undefined, out: string | undefined): Promise<void> {
  if (!input.startsWith('s3://')) await stat(input);
  if (enroll !== undefined && !enroll.startsWith('s3://')) {
    if (!(await stat(enroll)).isDirectory()) throw new UsageError(`--enroll ${enroll} is not a folder (one subfolder per person, named after them)`);
  }
  if (out !== undefined) {
    await access(dirname(resolve(out)), constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--out ${out}: cannot write in ${dirname(resolve(out))} (${err.code === 'ENOENT' ? 'no such folder' : 'permission denied'})`);
    });
  }
}

/** Ingests one folder with a progress bar; an enrollment batch is then built into the gallery. */
async function follow(producer: Producer, workers: WorkerProcesses | undefined, input: string, purpose: 'ingest' | 'enroll', options: { force: boolean; allFiles: boolean }, progress: { batchId?: string }): Promise<BatchInfo> {
  const bar = new ProgressBar(purpose);
  let skippedBy: Partial<Record<InputSkipReason, number>> = {};
  const batch = await ingestAndWait(producer, { input, purpose, personFromFolder: purpose === 'enroll', ...options }, {
    workers,
    onBatchId: (id) => (progress.batchId = id),
    onProgress: (b) => bar.update(b.done + b.failed, b.total, `${plural(b.faces, 'face')}${b.failed ? `, ${b.failed} failed` : ''}`),
    onIngested: (ingested) => {
      skippedBy = ingested.skippedBy;
    },
  });
  bar.done();
  const skips = describeInputSkips(skippedBy);
  if (skips) process.stderr.write(`${input}: ${skips}\n`);
  if (purpose === 'enroll') {
    const report = await producer.completeEnrollment(batch.id);
    const enrolled = report.items.filter((i) => i.status === 'enrolled');
    const people = new Set(enrolled.map((i) => i.person));
    process.stderr.write(`enrolled ${plural(enrolled.length, 'photo')} of ${plural(people.size, 'person', 'people')} (gallery v${report.galleryVersion})\n`);
    for (const item of report.items.filter((i) => i.status === 'rejected')) {
      process.stderr.write(`  not enrolled: ${item.source} (${item.person}): [${item.error?.code}] ${item.error?.message}\n`);
    }
  }
  return batch;
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
  return `${plural(b.total, 'image')} in ${seconds.toFixed(1)}s: ${b.done} done (${b.cached} from earlier results), ${b.failed} failed${errors ? ` (${errors})` : ''}, ${plural(b.faces, 'face')}`;
}
