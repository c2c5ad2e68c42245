import { parseNameSet } from './name-set.js';

/** The NOT_A_FACE checks an operator can turn on or off (FACEPIPE_NOT_A_FACE_CHECKS). */
export interface NotAFaceChecks {
  /** An object detector on each face's surroundings: pets' faces are set aside. */
  animal: boolean;
  /** The landmark net's answer to the mirrored crop against its answer to the crop. */
  mirror: boolean;
}

export const NOT_A_FACE_CHECK_NAMES = ['animal', 'mirror'] as const;

/** `all`, `none`, or a comma-separated list of check names → the checks; undefined when not of that form. */
export function parseNotAFaceChecks(value: string): NotAFaceChecks | undefined {
  return parseNameSet(value, NOT_A_FACE_CHECK_NAMES);
}
