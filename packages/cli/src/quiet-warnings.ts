/**
 * Imported first by main.ts, before any dependency loads: runtime warnings meant for developers
 * (the AWS SDK's notice about Node versions, say) would otherwise open every command's output
 * with a paragraph. They are shown with --debug or FACEPIPE_DEBUG=1.
 */
const debug = process.argv.includes('--debug') || process.env.FACEPIPE_DEBUG === '1';
if (!debug) {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (/NodeVersionSupportWarning/.test(`${warning.name} ${warning.message}`) || warning.name === 'DeprecationWarning' || warning.name === 'ExperimentalWarning') return;
    process.stderr.write(`facepipe: warning: ${warning.message.split('\n')[0]}\n`);
  });
}
export {};
