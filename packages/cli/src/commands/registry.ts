/**
 * Every CLI command by name, with its one-line summary for the usage, loaded only when it runs (a
 * command module pulls in what it needs: `detect` the models, `ingest` the queues and storage).
 * test/unit/cli-registry.test.ts checks each entry against the module it loads.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'run', summary: 'run the whole pipeline locally on a folder: enroll, ingest, wait, write results', load: async () => (await import('./run.js')).runCommand },
  { name: 'up', summary: 'start a local deployment in the background (Redis, S3, pools, service) and print the dashboard URL', load: async () => (await import('./up.js')).upCommand },
  { name: 'down', summary: 'stop the local deployment started by facepipe up', load: async () => (await import('./down.js')).downCommand },
  { name: 'serve', summary: 'run the HTTP service: upload API, ops dashboard, /metrics, /healthz, /readyz', load: async () => (await import('./serve.js')).serveCommand },
  { name: 'ingest', summary: 'queue a folder or s3://bucket/prefix as a batch on a running deployment', load: async () => (await import('./ingest.js')).ingestCommand },
  { name: 'enroll', summary: 'enroll known people on a running deployment', load: async () => (await import('./enroll.js')).enrollCommand },
  { name: 'status', summary: 'queues and batches of a running deployment, or one batch', load: async () => (await import('./status.js')).statusCommand },
  { name: 'results', summary: "an image's result document, or a batch's results as JSONL", load: async () => (await import('./results.js')).resultsCommand },
  { name: 'people', summary: 'the people in the library; name a cluster, rename, merge, hide, delete a person, move one face', load: async () => (await import('./people.js')).peopleCommand },
  { name: 'clusters', summary: 'groups of similar faces nobody has named yet (name one with facepipe people name)', load: async () => (await import('./clusters.js')).clustersCommand },
  { name: 'search', summary: 'find a face in the library: the faces nearest to one in a photo', load: async () => (await import('./search.js')).searchCommand },
  { name: 'keys', summary: 'create, list and revoke API keys (name, scopes) for the service', load: async () => (await import('./keys.js')).keysCommand },
  { name: 'delete', summary: 'erase an image and everything derived from it (original, faces, embeddings, results, index rows, Redis)', load: async () => (await import('./delete.js')).deleteCommand },
  { name: 'erasures', summary: 'the erasure log: who erased what kind of data when, with counts (no ids, names or faces)', load: async () => (await import('./erasures.js')).erasuresCommand },
  { name: 'label', summary: 'name a face by hand (kept across re-runs), or --clear the name', load: async () => (await import('./label.js')).labelCommand },
  { name: 'reindex', summary: 're-classify every face, or re-process results of older model versions', load: async () => (await import('./reindex.js')).reindexCommand },
  { name: 'schedules', summary: 'scheduled re-index jobs: create, list, delete', load: async () => (await import('./schedules.js')).schedulesCommand },
  { name: 'worker', summary: 'run one stage worker (detect, embed or classify) in this process', load: async () => (await import('./worker.js')).workerCommand },
  { name: 'detect', summary: 'find faces and 68 landmarks in image files, locally (no queues, no storage)', load: async () => (await import('./detect.js')).detectCommand },
  { name: 'verify', summary: 'face verification accuracy on an LFW-style pairs file (View 2 protocol)', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'eval-detection', summary: 'detection recall and false positives on annotated folders, per detector and min score', load: async () => (await import('./eval-detection.js')).evalDetectionCommand },
  { name: 'eval-library', summary: 'naming and clustering accuracy over a labelled photo library (strangers named, clusters)', load: async () => (await import('./eval-library.js')).evalLibraryCommand },
  { name: 'eval-landmarks', summary: '68-point landmark error (NME, inter-ocular) of detected faces on an iBUG-annotated folder', load: async () => (await import('./eval-landmarks.js')).evalLandmarksCommand },
];

/** Commands run by facepipe itself, not listed in the usage. */
export const INTERNAL_COMMANDS: readonly CommandEntry[] = [
  { name: 'deployment-process', summary: '(internal) the background process of facepipe up', load: async () => (await import('./deployment-process.js')).deploymentProcessCommand },
];
