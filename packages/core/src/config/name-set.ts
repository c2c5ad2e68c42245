/**
 * `all`, `none`, or a comma-separated list of names → which of `names` are on; undefined when the
 * value is not of that form (an unknown name, an empty item). The settings that turn optional
 * steps on and off by name use it: FACEPIPE_DETECT_PASSES, FACEPIPE_NOT_A_FACE_CHECKS.
 */
export function parseNameSet<N extends string>(value: string, names: readonly N[]): Record<N, boolean> | undefined {
  const items = value.split(',').map((v) => v.trim());
  const all = items.length === 1 && items[0] === 'all';
  const none = items.length === 1 && items[0] === 'none';
  if (!all && !none && items.some((n) => !(names as readonly string[]).includes(n))) return undefined;
  return Object.fromEntries(names.map((n) => [n, all || (!none && items.includes(n))])) as Record<N, boolean>;
}
