import { XMLParser } from 'fast-xml-parser';

/** One expiration rule of a bucket's lifecycle configuration, as the embedded store applies it. */
export interface ExpirationRule {
  id: string;
  enabled: boolean;
  /** Keys the rule covers start with this ('' = all). */
  prefix: string;
  /** Tags an object must carry, every one of them, for the rule to cover it. */
  tags: Readonly<Record<string, string>>;
  /** Days after an object's creation, rounded up to the next midnight UTC, as S3 counts them. */
  days?: number;
  /** A fixed date (ms since the epoch) from which covered objects expire. */
  date?: number;
}

/** A lifecycle configuration the embedded store cannot take: answered 400 MalformedXML. */
export class LifecycleConfigurationError extends Error {}

/** Object tags S3 would refuse: answered 400 InvalidTag. */
export class InvalidTagError extends Error {}

const DAY_MS = 86_400_000;
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Rule' || name === 'Tag' });

type XmlNode = Record<string, unknown>;
const node = (value: unknown): XmlNode => (value && typeof value === 'object' ? (value as XmlNode) : {});
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

function tagsOf(list: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of Array.isArray(list) ? list : []) {
    const key = text(node(tag).Key);
    if (!key) throw new LifecycleConfigurationError('a Tag without a Key');
    tags[key] = text(node(tag).Value) ?? '';
  }
  return tags;
}

/**
 * The rules of a `PutBucketLifecycleConfiguration` body (S3's XML). Filters by prefix, by tags or
 * both (`And`), the older top-level `Prefix`; `Expiration` by `Days` or `Date`. Other actions
 * (transitions, noncurrent versions, incomplete uploads) are accepted and have nothing to act on
 * in a store with one storage class, no versions and no multipart uploads.
 */
export function parseLifecycleConfiguration(xml: string): ExpirationRule[] {
  let doc: XmlNode;
  try {
    doc = node(parser.parse(xml));
  } catch (err) {
    throw new LifecycleConfigurationError(`not XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = doc.LifecycleConfiguration;
  if (config === undefined) throw new LifecycleConfigurationError('no LifecycleConfiguration element');
  const rules = node(config).Rule;
  if (!Array.isArray(rules) || rules.length === 0) throw new LifecycleConfigurationError('a lifecycle configuration needs at least one Rule');
  if (rules.length > 1000) throw new LifecycleConfigurationError('at most 1000 rules');
  const ids = new Set<string>();
  return rules.map((raw, i) => {
    const rule = node(raw);
    const id = text(rule.ID) ?? `rule-${i + 1}`;
    if (ids.has(id)) throw new LifecycleConfigurationError(`two rules with the ID ${id}`);
    ids.add(id);
    const status = text(rule.Status);
    if (status !== 'Enabled' && status !== 'Disabled') throw new LifecycleConfigurationError(`rule ${id}: Status must be Enabled or Disabled`);
    const filter = node(rule.Filter);
    const and = node(filter.And);
    const prefix = text(and.Prefix) ?? text(filter.Prefix) ?? text(rule.Prefix) ?? '';
    const tags = { ...tagsOf(filter.Tag), ...tagsOf(and.Tag) };
    const expiration = node(rule.Expiration);
    const daysText = text(expiration.Days);
    const dateText = text(expiration.Date);
    const days = daysText === undefined ? undefined : Number(daysText);
    if (days !== undefined && !(Number.isInteger(days) && days > 0)) throw new LifecycleConfigurationError(`rule ${id}: Expiration Days must be a positive whole number`);
    const date = dateText === undefined ? undefined : Date.parse(dateText);
    if (date !== undefined && Number.isNaN(date)) throw new LifecycleConfigurationError(`rule ${id}: Expiration Date is not a date`);
    return { id, enabled: status === 'Enabled', prefix, tags, ...(days !== undefined ? { days } : {}), ...(date !== undefined ? { date } : {}) };
  });
}

/** Whether any of the rules covers the object and says it has expired by `now`. */
export function expiredUnder(rules: readonly ExpirationRule[], key: string, tags: Readonly<Record<string, string>> | undefined, created: number, now: number): boolean {
  return rules.some((r) => ruleCovers(r, key, tags) && (expiresAt(r, created) ?? Infinity) <= now);
}

/** Whether an enabled rule covers an object of this key and these tags. */
export function ruleCovers(rule: ExpirationRule, key: string, tags: Readonly<Record<string, string>> | undefined): boolean {
  if (!rule.enabled || !key.startsWith(rule.prefix)) return false;
  return Object.entries(rule.tags).every(([k, v]) => tags?.[k] === v);
}

/**
 * When an object created at `created` expires under the rule (ms since the epoch), or undefined
 * when the rule sets no expiration. S3 counts days from creation and rounds up to the next
 * midnight UTC.
 */
export function expiresAt(rule: ExpirationRule, created: number): number | undefined {
  const byDays = rule.days === undefined ? undefined : Math.ceil((created + rule.days * DAY_MS) / DAY_MS) * DAY_MS;
  if (byDays === undefined) return rule.date;
  return rule.date === undefined ? byDays : Math.min(byDays, rule.date);
}

/** The tags as S3 takes them; {@link InvalidTagError} for what S3 refuses. */
function checkedTags(pairs: Iterable<readonly [string, string]>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (!k || k.length > 128 || v.length > 256) throw new InvalidTagError(`tag ${JSON.stringify(k)}: keys are 1–128 characters, values at most 256`);
    tags[k] = v;
  }
  if (Object.keys(tags).length > 10) throw new InvalidTagError('at most 10 tags an object');
  return tags;
}

/** The tags of an `x-amz-tagging` header (a URL query). */
export function parseTaggingHeader(header: string): Record<string, string> {
  return checkedTags(new URLSearchParams(header));
}

/** The tags of a `PutObjectTagging` body (`<Tagging><TagSet><Tag><Key>…`). */
export function parseTaggingXml(xml: string): Record<string, string> {
  let doc: XmlNode;
  try {
    doc = node(parser.parse(xml));
  } catch (err) {
    throw new InvalidTagError(`not XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = node(node(doc.Tagging).TagSet).Tag;
  return checkedTags((Array.isArray(list) ? list : []).map((t) => [text(node(t).Key) ?? '', text(node(t).Value) ?? ''] as const));
}
