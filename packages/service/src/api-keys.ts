import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { redisKeys, type ServiceContext } from '@facepipe/core';

/** What a key may do. `admin` includes every other scope and the management of keys. */
export const apiKeyScopes = ['upload', 'read', 'people', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** A key as listed: everything but its secret (which is never stored) and its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
}

/** A newly created key: `key` is shown this once and cannot be recovered. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
}

interface StoredApiKey extends ApiKeyInfo {
  /** sha256 (hex) of the whole key string. */
  hash: string;
}

/** `fpk_<16 hex id>_<43 base64url chars = 256 random bits>`. */
const keyPattern = /^fpk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const namePattern = /^[\x20-\x7e]{1,100}$/;
/** Session cookie values of key sign-ins: `k.<id>.<hmac>`. */
const sessionPattern = /^k\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

type Redis = ServiceContext['redis'];

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * API keys in Redis (one hash under the key prefix; deployments run Redis with AOF): each with
 * a name and scopes, stored as the sha256 of the key — the key itself is shown once at
 * creation and never kept. Keys have 256 random bits, so a plain hash is enough (no salt or
 * slow hash needed, unlike passwords). The id inside the key finds its record in one lookup.
 */
export class ApiKeys {
  readonly #redis: Redis;
  readonly #hashKey: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#hashKey = redisKeys(prefix).apiKeys;
  }

  /** Whether a credential has the shape of an API key (else it is compared with the bootstrap token). */
  static looksLikeKey(value: string): boolean {
    return value.startsWith('fpk_');
  }

  /** Parses `upload,read,...`; throws a RangeError naming the scopes that exist. */
  static parseScopes(text: string | string[]): ApiKeyScope[] {
    const items = (Array.isArray(text) ? text : text.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new RangeError(`give at least one scope (${apiKeyScopes.join(', ')})`);
    const unknown = items.filter((s) => !(apiKeyScopes as readonly string[]).includes(s));
    if (unknown.length > 0) throw new RangeError(`unknown scope ${unknown.map((s) => `"${s}"`).join(', ')} (scopes: ${apiKeyScopes.join(', ')})`);
    return apiKeyScopes.filter((s) => items.includes(s));
  }

  /** Checks a key name: 1-100 printable ASCII characters. */
  static checkName(name: string): string {
    if (!namePattern.test(name)) throw new RangeError('a key name is 1-100 printable ASCII characters');
    return name;
  }

  /** Whether a key with `scopes` may act where `needed` is required. */
  static allows(scopes: readonly ApiKeyScope[], needed: ApiKeyScope): boolean {
    return scopes.includes('admin') || scopes.includes(needed);
  }

  async create(name: string, scopes: ApiKeyScope[]): Promise<CreatedApiKey> {
    ApiKeys.checkName(name);
    const checked = ApiKeys.parseScopes(scopes);
    const id = randomBytes(8).toString('hex');
    const key = `fpk_${id}_${randomBytes(32).toString('base64url')}`;
    const info: ApiKeyInfo = { id, name, scopes: checked, createdAt: new Date().toISOString() };
    const stored: StoredApiKey = { ...info, hash: sha256Hex(key) };
    await this.#redis.hset(this.#hashKey, id, JSON.stringify(stored));
    return { ...info, key };
  }

  /** Every key, oldest first, without secrets. */
  async list(): Promise<ApiKeyInfo[]> {
    const all = await this.#redis.hgetall(this.#hashKey);
    return Object.values(all)
      .map((text) => publicInfo(JSON.parse(text) as StoredApiKey))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Revokes a key at once (every process looks keys up per request); false when there was none. */
  async revoke(id: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#hashKey, id)) > 0;
  }

  /** The key's record when `key` is a live key. */
  async verify(key: string): Promise<ApiKeyInfo | undefined> {
    const match = keyPattern.exec(key);
    if (!match) return undefined;
    const stored = await this.#get(match[1]!);
    return stored && sameHex(stored.hash, sha256Hex(key)) ? publicInfo(stored) : undefined;
  }

  /** A browser session value for a verified key; it dies with the key (derived from its hash). */
  async sessionFor(key: string): Promise<string | undefined> {
    const match = keyPattern.exec(key);
    const stored = match ? await this.#get(match[1]!) : undefined;
    if (!stored || !sameHex(stored.hash, sha256Hex(key))) return undefined;
    return `k.${stored.id}.${sessionMac(stored.hash)}`;
  }

  /** The key behind a session value from {@link sessionFor}, while the key lives. */
  async verifySession(value: string): Promise<ApiKeyInfo | undefined> {
    const match = sessionPattern.exec(value);
    if (!match) return undefined;
    const stored = await this.#get(match[1]!);
    if (!stored) return undefined;
    const expected = Buffer.from(sessionMac(stored.hash));
    const given = Buffer.from(match[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given) ? publicInfo(stored) : undefined;
  }

  static isKeySession(value: string): boolean {
    return value.startsWith('k.');
  }

  async #get(id: string): Promise<StoredApiKey | undefined> {
    const text = await this.#redis.hget(this.#hashKey, id);
    return text === null ? undefined : (JSON.parse(text) as StoredApiKey);
  }
}

function sessionMac(hash: string): string {
  return createHmac('sha256', hash).update('facepipe dashboard session v1').digest('base64url');
}

function publicInfo(stored: StoredApiKey): ApiKeyInfo {
  return { id: stored.id, name: stored.name, scopes: stored.scopes, createdAt: stored.createdAt };
}
