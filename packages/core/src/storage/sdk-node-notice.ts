/**
 * Turns off the AWS SDK's Node-version notice (8 lines on stderr from the first S3 client in
 * every process on Node 20: "SDK versions published after January 2027 will require node >=22")
 * with the SDK's documented opt-out, unless the operator set that variable themselves.
 * facepipe pins its SDK in package-lock.json and is tested on Node 20 and 22, so the notice tells
 * a facepipe user nothing they can act on; docs/deployment.md says which Node to run.
 * See https://github.com/aws/aws-sdk-js-v3/issues/7983.
 */
export function quietSdkNodeVersionNotice(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
