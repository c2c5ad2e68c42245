// The README's promise: from a fresh clone, `npm ci` and the commands it shows print no warning on
// a supported Node (22, 24) with the npm that Node ships (10, 11). Not npm's (engines, install-script
// policy, unknown .npmrc keys), not the AWS SDK's Node-version notice, not Node's own; and the
// install stays offline (onnxruntime-node's installer never tries to download its CUDA files).
// CI runs this file on Node 22 + npm 10 and on Node 24 + npm 11 (.ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPath, missingData } from '../helpers/data.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sdkNotice = /NodeVersionSupportWarning|AWS SDK for JavaScript \(v3\)/;
/** Any line npm or Node would print to warn: `npm warn …`, `npm WARN …`, `(node:123) …Warning`, `npm notice …`. */
const anyWarning = /^npm (warn|notice)|^npm WARN|\bEBADENGINE\b|Warning:|\bdeprecated\b/im;
const nodeMajor = Number(process.versions.node.split('.')[0]);
const unsupportedNode = nodeMajor < 22 ? `Node ${process.version} is not supported (Node 22 or 24: README)` : false;

/**
 * The environment of a fresh shell: none of what `npm test` adds for its scripts (npm_* settings,
 * node_modules/.bin on PATH), no SDK opt-out, no NODE_NO_WARNINGS. npm reads a user config of its
 * own: this machine's ~/.npmrc sets `nodedir` (for node-gyp), which npm 11 warns about as unknown;
 * that is the machine's, not the project's. Its update check is off (a notice about npm itself,
 * once a week at most).
 */
function freshShellEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || ['INIT_CWD', 'NODE', 'NODE_NO_WARNINGS', 'NODE_OPTIONS', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'].includes(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => !/node_modules[\\/]\.bin|node-gyp-bin/.test(p)).join(delimiter);
  const userconfig = join(home, 'npmrc');
  writeFileSync(userconfig, 'update-notifier=false\n');
  env.NPM_CONFIG_USERCONFIG = userconfig;
  return env;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 120_000) {
  const out = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(out.error, undefined, `${command} ${args.join(' ')}: ${out.error?.message}`);
  return out;
}

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout?.trim();
const gitFiles = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
const photo = 'recognition/face_recognition_examples/knn_test/obama1.jpg';
/** .ci/run's own `npm ci` of the clean clone, checked for warnings there, on this Node and npm: no need for a second. */
const checkedByCi = process.env.FACEPIPE_CI_INSTALL_CHECKED === `${process.version} npm ${npmVersion}` && `.ci/run's own fresh npm ci on Node ${process.version} and npm ${npmVersion} was checked for warnings`;

test('a fresh npm ci prints no warning and downloads nothing', {
  skip: unsupportedNode || (!npmVersion && 'npm is not on PATH') || (gitFiles.status !== 0 && 'not a git checkout (the fresh copy is made of its files)') || checkedByCi,
  timeout: 900_000,
}, () => {
  const work = mkdtempSync(join(tmpdir(), 'facepipe-fresh-'));
  const copy = join(work, 'facepipe');
  try {
    // A clone's files (tracked, plus new ones not ignored: this working tree as it would be committed).
    for (const file of gitFiles.stdout.split('\0').filter((f) => f && existsSync(join(root, f)))) {
      cpSync(join(root, file), join(copy, file), { preserveTimestamps: true });
    }
    // The compiled packages and converted models, with their times, so `prepare` (tsc -b, the
    // converter) finds them current instead of spending minutes; what is checked here is npm's
    // install and what it runs, which is the same either way.
    for (const pkg of readdirSync(join(root, 'packages'))) {
      for (const built of ['dist', 'tsconfig.tsbuildinfo', 'models']) {
        const from = join(root, 'packages', pkg, built);
        if (existsSync(from) && !existsSync(join(copy, 'packages', pkg, built))) cpSync(from, join(copy, 'packages', pkg, built), { recursive: true, preserveTimestamps: true });
      }
    }
    const env = freshShellEnv(work);

    const install = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], copy, env, 840_000);
    const installOutput = `${install.stdout}\n${install.stderr}`;
    assert.equal(install.status, 0, installOutput);
    assert.doesNotMatch(installOutput, anyWarning, `npm ${npmVersion} on Node ${process.version}`);
    // onnxruntime-node's installer, had it run, would have fetched these from NuGet (or failed offline).
    const ortBin = join(copy, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
    assert.ok(existsSync(join(ortBin, 'onnxruntime_binding.node')), 'onnxruntime-node is installed');
    assert.deepEqual(readdirSync(ortBin).filter((f) => /providers_cuda/.test(f)), [], 'no CUDA files were fetched');
    assert.doesNotMatch(installOutput, /nuget|Downloading/i);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("the README's commands (npx facepipe …) print no warning", { skip: unsupportedNode || (!npmVersion && 'npm is not on PATH') }, () => {
  const work = mkdtempSync(join(tmpdir(), 'facepipe-npx-'));
  try {
    const env = freshShellEnv(work);
    const help = run('npx', ['facepipe', '--help'], root, env);
    assert.equal(help.status, 0, help.stderr);
    assert.equal(help.stderr, '', 'npx facepipe --help prints nothing on stderr');
    if (!missingData(photo)) {
      const detect = run('npx', ['facepipe', 'detect', dataPath(photo)], root, env);
      assert.equal(detect.status, 0, detect.stderr);
      assert.match(detect.stdout, /1 face\b/);
      assert.doesNotMatch(detect.stderr, anyWarning);
      assert.doesNotMatch(detect.stderr, sdkNotice);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('package.json and the lock keep onnxruntime-node\'s installer from running under every npm', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean>; engines?: { node?: string } };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  // npm ≥ 11.16 reads allowScripts: denied, the installer is skipped without a word.
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  // npm 10 has no allowScripts; `npm ci` runs the install scripts the lock records, and it records none for onnxruntime-node.
  assert.equal(lock.packages['node_modules/onnxruntime-node']?.hasInstallScript, undefined, 'package-lock.json must not record an install script for onnxruntime-node (docs/deployment.md#node-and-npm)');
  // Every other package with an install script has been reviewed (npm 11 warns about the rest).
  const withScripts = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path]) => path.replace(/^.*node_modules\//, ''));
  const unreviewed = withScripts.filter((name) => pkg.allowScripts?.[name] === undefined);
  assert.deepEqual(unreviewed, [], 'add them to allowScripts (npm install-scripts approve|deny <pkg> --no-allow-scripts-pin)');
  assert.equal(pkg.engines?.node, '^22.13.0 || >=24.0.0');
});

test("facepipe's S3 store builds its SDK client without the notice", () => {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const out = run(process.execPath, ['--input-type=module', '-e', "import { S3ObjectStore } from '@facepipe/core'; new S3ObjectStore({ bucket: 'facepipe', region: 'us-east-1' });"], root, env);
  assert.equal(out.status, 0, out.stderr);
  assert.doesNotMatch(out.stderr, sdkNotice);
});

test('a facepipe command that reaches for S3 and Redis prints no notice', () => {
  // Nothing listens on port 1: the command fails, after building its S3 and Redis clients.
  const out = run(process.execPath, ['packages/cli/dist/main.js', 'status'], root, { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', S3_ENDPOINT: 'http://127.0.0.1:1' });
  assert.notEqual(out.status, 0);
  assert.doesNotMatch(out.stderr, sdkNotice);
  assert.doesNotMatch(out.stderr, anyWarning);
});
