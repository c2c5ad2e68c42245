import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LogFile, type StageName } from '@facepipe/core';

const require = createRequire(import.meta.url);

/** The entry point production uses for each stage (each package's own bin). */
export function workerEntry(stage: StageName): string {
  return require.resolve(`@facepipe/worker-${stage}/main`);
}

export interface WorkerProcess {
  stage: StageName;
  child: ChildProcess;
  logFile: string;
}

/**
 * Starts stage workers as separate processes, each logging JSON lines to its own file, and
 * stops them with SIGTERM (graceful: active jobs finish), then SIGKILL after a grace period.
 */
export class WorkerProcesses {
  readonly processes: WorkerProcess[] = [];
  /** Log files that drop lines on a full disk instead of crashing this process (see LogFile). */
  readonly #logs: LogFile[] = [];
  #stopping: Promise<void> | undefined;

  constructor(
    readonly env: Record<string, string | undefined>,
    readonly logDir: string,
    /** Extra Node.js flags for every worker (e.g. `--cpu-prof`). @defaultValue [] */
    readonly nodeArgs: string[] = [],
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts `count` processes of a stage; `env` adds settings for this stage only. */
  start(stage: StageName, count = 1, env: Record<string, string> = {}): void {
    for (let i = 0; i < count; i += 1) {
      const logFile = join(this.logDir, `worker-${stage}-${this.processes.filter((p) => p.stage === stage).length + 1}.log`);
      const log = new LogFile(logFile);
      this.#logs.push(log);
      // FACEPIPE_PARENT_PID: the worker stops itself when this process dies, even by kill -9.
      const child = spawn(process.execPath, [...this.nodeArgs, workerEntry(stage)], {
        env: { ...process.env, ...this.env, ...env, FACEPIPE_PARENT_PID: String(process.pid) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      this.processes.push({ stage, child, logFile });
    }
  }

  /** A worker that exited on its own (with the end of its log), if any. */
  crashed(): { stage: StageName; code: number | null; logTail: string } | undefined {
    const dead = this.processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (!dead) return undefined;
    let logTail = '';
    try {
      logTail = readFileSync(dead.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      logTail = '(no log)';
    }
    return { stage: dead.stage, code: dead.child.exitCode, logTail };
  }

  stop(graceMs = 30_000): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(
        this.processes.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      await Promise.all(this.#logs.map((l) => new Promise((r) => l.end(r))));
    })();
    return this.#stopping;
  }
}
