import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isImageId } from '@facepipe/core';
import { tallyPreview, type FaceAnswer, type LibraryChange } from '@facepipe/face-index';
import { UsageError, type Command } from './command.js';
import { plural } from '../ui/progress.js';
import { cliActor, describeErasure, withEraser } from './erasure.js';
import { libraryDataDirOption, libraryDataDirUsage, syncResults, withLibrary } from './library.js';

/** One face's answer in a line: the name and how it was given, a suggestion, or nobody. */
export function answerText(a: FaceAnswer): string {
  const at = a.distance === null ? '' : ` at ${a.distance.toFixed(3)}`;
  if (a.name !== null) return a.how === 'auto' ? `${a.name}${at}` : `${a.name} (${a.how === 'hand' ? 'by hand' : 'example'})`;
  return a.suggestion !== null ? `probably ${a.suggestion}${at}` : 'nobody';
}

export const peopleCommand: Command = {
  name: 'people',
  summary: 'the people in the library; name a cluster, rename, merge, hide, delete a person, move one face',
  usage: `facepipe people [--json] [--all]          every person with their face counts (--all: hidden ones too)
facepipe people name <clusterId> <name>   the cluster's faces become <name> (as enrollment); matching
                                          faces across the library are named at once
facepipe people name <clusterId> <name> --preview [--json]
                                          what naming the cluster would do, nothing done: every face
                                          that would be named, suggested or lose its name
facepipe people rename <name> <newName>
facepipe people merge <from> <into>       <from>'s faces and examples become <into>'s
facepipe people hide <name> | unhide <name>
facepipe people delete <name>             the person goes; their faces become nobody's
facepipe people delete <name> --erase [--keep-photos]
                                          erase the person's biometric data: the person, every
                                          face of theirs, and every photo only they appear in
                                          (--keep-photos: only their faces; every photo stays);
                                          logged without the name (facepipe erasures)
facepipe people move <imageId> <face> <name>
                                          one face becomes <name>'s (set by hand: kept through
                                          re-runs; a new name creates the person)
facepipe people move <imageId> <face> --nobody
                                          "this is nobody I know": the face is nobody's, in no
                                          cluster, and stays so
facepipe people suggestions [--json]      faces with a suggestion ("probably <name>") to answer
facepipe people confirm <imageId> <face>  yes: the face becomes the suggested person's (as if set
                                          by hand; matching faces are named after it)
facepipe people reject <imageId> <face>   no: "not this person", never suggested as them again
facepipe people history [--json]          the people operations, newest first (who, what, undone)
facepipe people undo [<id>]               takes back the newest operation not undone yet (with <id>:
                                          only if that is the one); again, the one before it

With --json, one line per person: {"name","faces","examples","hidden"} (examples: faces that name
others: enrolled, from a named cluster, or named by hand); for suggestions, one line per face:
{"imageId","face","source","name","distance"}; for --preview, one line per face that would change:
{"imageId","face","source","before","after"}, each {"name","how","suggestion","distance"}; for
history, one line per operation: {"id","at","actor","action","summary","undoneAt","undoneBy","undoable"}.

Options:
${libraryDataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...libraryDataDirOption, json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, nobody: { type: 'boolean', default: false }, erase: { type: 'boolean', default: false }, 'keep-photos': { type: 'boolean', default: false }, preview: { type: 'boolean', default: false } } });
    const [action, a, b, c] = positionals;
    const dataDir = values['data-dir'];
    if (values.nobody && action !== 'move') throw new UsageError('--nobody goes with facepipe people move <imageId> <face> --nobody');
    if ((values.erase || values['keep-photos']) && action !== 'delete') throw new UsageError('--erase goes with facepipe people delete <name> --erase [--keep-photos]');
    if (values['keep-photos'] && !values.erase) throw new UsageError('--keep-photos goes with --erase');
    if (values.preview && action !== 'name') throw new UsageError('--preview goes with facepipe people name <clusterId> <name> --preview');
    if (action === 'name' && values.preview) {
      if (positionals.length !== 3) throw new UsageError('usage: facepipe people name <clusterId> <name> --preview [--json]');
      return withLibrary(dataDir, async ({ library }) => {
        const preview = await library.previewNameCluster(a!, b!);
        for (const f of preview.changes) {
          process.stdout.write(values.json ? `${JSON.stringify({ imageId: f.imageId, face: f.faceIndex, source: f.source, before: f.before, after: f.after })}\n` : `${f.imageId} ${f.faceIndex}\t${f.source}\t${answerText(f.after)} (was ${answerText(f.before)})\n`);
        }
        if (!values.json) {
          const t = tallyPreview(preview.changes);
          process.stdout.write(`naming cluster ${a} ${b} would name ${plural(t.examples + t.named, 'face')} (${t.examples} of the cluster, ${t.named} more across the library); ${plural(t.suggested, 'suggestion')}; ${plural(t.unnamed, 'face')} would lose a name. Nothing was changed.\n`);
        }
        return 0;
      });
    }
    if (action === 'delete' && values.erase) {
      if (positionals.length !== 2) throw new UsageError('usage: facepipe people delete <name> --erase [--keep-photos]');
      const mode = values['keep-photos'] ? 'faces' : 'photos';
      return withEraser(resolve(dataDir), true, async (eraser) => {
        const outcome = await eraser.erasePerson(a!, mode, cliActor());
        const c = outcome.record.counts;
        const photos = mode === 'photos' ? `${plural(outcome.imagesErased, 'photo')} only they appear in erased, ` : 'their photos kept (--keep-photos), ';
        process.stdout.write(`${a} erased: ${plural(c.faces, 'face')}, ${photos}${plural(outcome.imagesKept, 'other photo')} kept without their faces; ${describeErasure(outcome)}
`);
        return 0;
      });
    }
    const arity = (n: number, form: string) => {
      if (positionals.length !== n + 1) throw new UsageError(`usage: facepipe people ${form}`);
    };
    if (action === undefined) {
      return withLibrary(dataDir, async ({ library }) => {
        const people = await library.people({ includeHidden: values.all });
        for (const p of people) {
          process.stdout.write(values.json ? `${JSON.stringify({ name: p.name, faces: p.faces, examples: p.examples, hidden: p.hidden })}\n` : `${p.name}\t${plural(p.faces, 'face')} (${plural(p.examples, 'example')})${p.hidden ? ' hidden' : ''}\n`);
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
          return { said: `cluster ${a} is ${b}: ${plural(c.faces, 'face')} named`, change: c };
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
          return { said: `${a} merged into ${b}: ${plural(c.faces, 'face')}`, change: c };
        };
        break;
      case 'delete':
        arity(1, 'delete <name>');
        change = async ({ library }) => {
          const c = await library.delete(a!);
          return { said: `${a} deleted; ${c.faces === 1 ? '1 face is' : `${c.faces} faces are`} nobody's now`, change: c };
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
      case 'move': {
        arity(values.nobody ? 2 : 3, 'move <imageId> <face> <name>, or move <imageId> <face> --nobody');
        if (!isImageId(a!)) throw new UsageError('the image id is 64 hex digits (the sha256 of the photo)');
        if (!/^\d{1,5}$/.test(b!)) throw new UsageError('the face is its index in the image: a whole number from 0');
        const name = values.nobody ? null : c!;
        change = async ({ library }) => {
          // The same as PUT /v1/faces/{imageId}/{face}/person: a name set by hand, kept by box.
          const { face, change: moved } = await library.labelFace(a!, Number(b), name);
          return { said: `face ${face.faceIndex} of ${face.imageId}: ${face.name ?? "nobody's"} now${moved.faces > 1 ? ` (${plural(moved.faces - 1, 'matching face')} named too)` : ''}`, change: moved };
        };
        break;
      }
      case 'suggestions': {
        arity(0, 'suggestions [--json]');
        return withLibrary(dataDir, async ({ library }) => {
          let after: string | null = null;
          let shown = 0;
          for (;;) {
            const page = await library.suggestions(after, 500);
            for (const f of page) {
              const line = { imageId: f.imageId, face: f.faceIndex, source: f.source, name: f.name, distance: f.distance };
              process.stdout.write(values.json ? `${JSON.stringify(line)}\n` : `${f.imageId} ${f.faceIndex}\tprobably ${f.name} (${f.distance.toFixed(3)})\t${f.source}\n`);
            }
            shown += page.length;
            if (page.length < 500) break;
            after = page[page.length - 1]!.id;
          }
          if (!values.json && shown === 0) process.stderr.write('no suggestions to answer\n');
          return 0;
        });
      }
      case 'confirm':
      case 'reject': {
        arity(2, `${action} <imageId> <face>`);
        if (!isImageId(a!)) throw new UsageError('the image id is 64 hex digits (the sha256 of the photo)');
        if (!/^\d{1,5}$/.test(b!)) throw new UsageError('the face is its index in the image: a whole number from 0');
        change = async ({ library }) => {
          const { face, change: answered } = await library.answerSuggestion(a!, Number(b), action === 'confirm');
          return {
            said: action === 'confirm'
              ? `face ${face.faceIndex} of ${face.imageId}: ${face.name} now${answered.faces > 1 ? ` (${plural(answered.faces - 1, 'matching face')} named too)` : ''}`
              : `face ${face.faceIndex} of ${face.imageId}: not suggested as that person again`,
            change: answered,
          };
        };
        break;
      }
      case 'history': {
        arity(0, 'history [--json]');
        return withLibrary(dataDir, async ({ library }) => {
          const newest = await library.newestUndoable();
          const entries = await library.audit(null, 50);
          for (const e of entries) {
            const line = { id: e.id, at: e.at, actor: e.actor, action: e.action, summary: e.summary, undoneAt: e.undoneAt, undoneBy: e.undoneBy, undoable: e.id === newest?.id };
            process.stdout.write(values.json ? `${JSON.stringify(line)}\n` : `#${e.id}\t${e.at}\t${e.actor}\t${e.summary}${e.undoneAt ? `\t(undone by ${e.undoneBy ?? 'local'} at ${e.undoneAt})` : line.undoable ? '\t(facepipe people undo takes this back)' : ''}\n`);
          }
          if (!values.json && entries.length === 0) process.stderr.write('no people operations yet\n');
          return 0;
        });
      }
      case 'undo': {
        if (positionals.length > 2) throw new UsageError('usage: facepipe people undo [<id>]');
        if (a !== undefined && !/^\d{1,19}$/.test(a)) throw new UsageError('the id is the number facepipe people history shows (#12 is 12)');
        return withLibrary(dataDir, async (opened) => {
          const outcome = await opened.library.undo(a);
          if (outcome.kind === 'nothing') {
            process.stderr.write('facepipe: nothing left to undo (facepipe people history)\n');
            return 1;
          }
          if (outcome.kind === 'stale') {
            process.stderr.write(`facepipe: the newest operation is #${outcome.newest.id} (${outcome.newest.summary}): undo that one first; nothing was changed\n`);
            return 1;
          }
          if (outcome.kind === 'conflict') {
            process.stderr.write(`facepipe: #${outcome.entry.id} (${outcome.entry.summary}) cannot be undone: ${outcome.message}; nothing was changed\n`);
            return 1;
          }
          const synced = await syncResults(dataDir, opened, outcome.change.imageIds);
          process.stdout.write(`undone #${outcome.entry.id} (${outcome.entry.summary}): ${plural(outcome.change.faces, 'face')} as before${synced ? ` (${synced} result documents updated)` : ''}\n`);
          return 0;
        });
      }
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
