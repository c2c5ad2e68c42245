import { parseArgs } from 'node:util';
import { ApiKeys } from '@facepipe/service';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';

const usage = `facepipe keys create --name <name> --scopes <scope,...> [--json] [--data-dir <dir>]
facepipe keys list [--json] [--data-dir <dir>]
facepipe keys revoke <id> [--data-dir <dir>]

API keys for the service (facepipe serve): each has a name and scopes — upload (POST
/v1/images, close batches), read (every GET, the dashboard), people (enroll), admin (everything,
including keys). \`create\` prints the key once, on a line of its own: it is stored only as its
sha256 and cannot be shown again. Send it as \`Authorization: Bearer <key>\`, or sign in to the
dashboard with it. FACEPIPE_API_TOKEN stays the bootstrap admin credential.

${dataDirUsage}`;

export const keysCommand: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys (name, scopes) for the service',
  usage,
  async run(argv) {
    const [action, ...rest] = argv;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { ...dataDirOption, name: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const withKeys = (fn: (keys: ApiKeys) => Promise<number>): Promise<number> =>
      withProducer('keys', (producer) => fn(new ApiKeys(producer.ctx.redis, producer.ctx.config.redis.prefix)), { dataDir: values['data-dir'] });
    if (action === 'create') {
      if (values.name === undefined) throw new UsageError('give the key a --name');
      if (values.scopes === undefined) throw new UsageError('give --scopes, e.g. --scopes upload,read (scopes: upload, read, people, admin)');
      let name: string;
      let scopes;
      try {
        name = ApiKeys.checkName(values.name);
        scopes = ApiKeys.parseScopes(values.scopes);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return withKeys(async (keys) => {
        const created = await keys.create(name, scopes);
        if (values.json) {
          process.stdout.write(`${JSON.stringify(created)}\n`);
        } else {
          process.stderr.write(`created key ${created.id} "${created.name}" (scopes: ${created.scopes.join(',')}); it is shown only now:\n`);
          process.stdout.write(`${created.key}\n`);
        }
        return 0;
      });
    }
    if (action === 'list') {
      return withKeys(async (keys) => {
        const all = await keys.list();
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ keys: all })}\n`);
          return 0;
        }
        if (all.length === 0) {
          process.stdout.write('no API keys (create one with: facepipe keys create --name <name> --scopes <scope,...>)\n');
          return 0;
        }
        const width = Math.max(4, ...all.map((k) => k.name.length));
        process.stdout.write(`${'id'.padEnd(16)}  ${'name'.padEnd(width)}  ${'scopes'.padEnd(24)}  created\n`);
        for (const k of all) process.stdout.write(`${k.id}  ${k.name.padEnd(width)}  ${k.scopes.join(',').padEnd(24)}  ${k.createdAt}\n`);
        return 0;
      });
    }
    if (action === 'revoke') {
      const id = positionals[0];
      if (id === undefined || positionals.length > 1) throw new UsageError('give the id of one key (see facepipe keys list)');
      return withKeys(async (keys) => {
        if (!(await keys.revoke(id))) {
          process.stderr.write(`no key ${id} (see facepipe keys list)\n`);
          return 1;
        }
        process.stdout.write(`revoked key ${id}\n`);
        return 0;
      });
    }
    throw new UsageError(action === undefined ? 'give an action: create, list or revoke' : `unknown action "${action}" (create, list, revoke)`);
  },
};
