export { readLocalFile, type ReadLocalFileOptions } from './read-local-file.js';
export { fileSystemError } from './file-system-error.js';
export { describeFileKind } from './file-kind.js';
export { LocalInputWalker, type LocalInputEntry, type LocalInputWalkerOptions } from './local-input-walker.js';
export { InputSkips, describeInputSkips, type InputSkipReason } from './input-skips.js';
export { IMAGE_EXTENSIONS, OS_CLUTTER_NAMES, hasImageExtension } from './image-names.js';
