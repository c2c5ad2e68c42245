/**
 * Why every process that uses ONNX Runtime sets `ORT_DISABLE_TELEMETRY=1` before its first
 * session: onnxruntime-node 1.30 (Linux x64) starts Microsoft's 1DS telemetry client when it
 * creates its process-wide environment. That client's system-information probe reads
 * `/proc/self/cmdline` and matches the whole command line against the std::regex
 * `(.*)[ ]*.*[\n]*`; libstdc++ evaluates such a regex recursively, a few hundred bytes of stack per
 * character. Inference runs in Node worker threads, whose stack is a fixed 4 MiB (`ulimit -s`
 * does not apply to them), so a command line longer than about 14 KB (175 LFW paths, 1,000 short
 * ones) overflowed it: SIGSEGV, 40,000+ frames deep in libonnxruntime.so. The variable skips the
 * telemetry client entirely (nothing else reads the command line); any value but `0` disables it.
 * See docs/models.md.
 */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

/**
 * Disables ONNX Runtime's telemetry for this process and its children. Must run on the main thread
 * (a worker thread's `process.env` is a copy that native code does not see) before the first
 * session is created; {@link InferencePool} and `createSession` call it. Overrides `0` on purpose:
 * with telemetry on, a long command line crashes the process.
 */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env[ORT_TELEMETRY_VARIABLE] = '1';
}
