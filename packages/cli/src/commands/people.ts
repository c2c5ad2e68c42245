import { parseArgs } from 'node:util';
import type { LibraryChange } from '@facepipe/face-index';
import { UsageError, type Command } from './command.js';
import { libraryDataDirOption, libraryDataDirUsage, syncResults, withLibrary } from './library.js';

export const peopleCommand: Command = {
  name: 'people',
  summary: 'the people in the library; name a cluster, rename, merge, hide, delete a person',
  usage: `facepipe people [--json] [--all]          every person with their face counts (--all: hidden ones too)
facepipe people name <clusterId> <name>   the cluster's faces become <name> (as enrollment); matching
                                          faces across the library are named at once
facepipe people rename <name> <newName>
facepipe people merge <from> <into>       <from>'s faces and examples become <into>'s
facepipe people hide <name> | unhide <name>
facepipe people delete <name>             the person goes; their faces become nobody's

With --json, one line per person: {"name","faces","examples","hidden"} (examples: faces that name
others: enrolled, from a named cluster, or named by hand).

Options:
${libraryDataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...libraryDataDirOption, json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false } } });
    const [action, a, b] = positionals;
    const dataDir = values['data-dir'];
    const arity = (n: number, form: string) => {
      if (positionals.length !== n + 1) throw new UsageError(`usage: facepipe people ${form}`);
    };
    if (action === undefined) {
      return withLibrary(dataDir, async ({ library }) => {
        const people = await library.people({ includeHidden: values.all });
        for (const p of people) {
          process.stdout.write(values.json ? `${JSON.stringify({ name: p.name, faces: p.faces, examples: p.examples, hidden: p.hidden })}\n` : `${p.name}\t${p.faces} faces (${p.examples} examples)${p.hidden ? ' hidden' : ''}\n`);
        }
        if (!values.json && people.length === 0) process.stderr.write('nobody yet: name a cluster (facepipe clusters, facepipe people name <clusterId> <name>) or enroll people\n');
        return 0;
      });
    }
    let change: (opened: Parameters<Parameters<typeof withLibrary>[1]>[0]) => Promise<{ said: string; change?: LibraryChange }>;
    switch (action) {
      case 'name':
        arity(2, 'name <clusterId> <name>');
        change = async ({ library }) => {
          const c = await library.nameCluster(a!, b!);
          return { said: `cluster ${a} is ${b}: ${c.faces} faces named`, change: c };
        };
        break;
      case 'rename':
        arity(2, 'rename <name> <newName>');
        change = async ({ library }) => ({ said: `${a} is now ${b}`, change: await library.rename(a!, b!) });
        break;
      case 'merge':
        arity(2, 'merge <from> <into>');
        change = async ({ library }) => {
          const c = await library.merge(a!, b!);
          return { said: `${a} merged into ${b}: ${c.faces} faces`, change: c };
        };
        break;
      case 'delete':
        arity(1, 'delete <name>');
        change = async ({ library }) => {
          const c = await library.delete(a!);
          return { said: `${a} deleted; ${c.faces} faces are nobody's now`, change: c };
        };
        break;
      case 'hide':
      case 'unhide':
        arity(1, `${action} <name>`);
        change = async ({ library }) => {
          await library.setHidden(a!, action === 'hide');
          return { said: `${a} ${action === 'hide' ? 'hidden' : 'shown'}` };
        };
        break;
      default:
        throw new UsageError(`unknown people action "${action}"`);
    }
    return withLibrary(dataDir, async (opened) => {
      const { said, change: c } = await change(opened);
      const synced = c ? await syncResults(dataDir, opened, c.imageIds) : 0;
      process.stdout.write(`${said}${synced ? ` (${synced} result documents updated)` : ''}\n`);
      return 0;
    });
  },
};
