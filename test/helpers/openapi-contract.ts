import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export is the function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, any>;

/**
 * Checks the service's actual answers against its served /openapi.json: the status must be one
 * the operation describes, the content type one it names, and a JSON (or NDJSON) body must
 * match the described schema. It remembers which operation answered which status, so a test
 * can require that every route was seen answering both a success and an error.
 */
export class OpenApiContract {
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #operations: { method: string; path: string; pattern: RegExp; op: Json }[] = [];
  /** `GET /v1/batches/{id}` → statuses seen. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly document: Json) {
    addFormats(this.#ajv);
    for (const [path, item] of Object.entries(document.paths as Json)) {
      const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(item as Json)) this.#operations.push({ method: method.toUpperCase(), path, pattern, op });
    }
  }

  /** The operation a request went to, or undefined for routes outside the description (HTML pages, bull-board). */
  operationOf(method: string, url: string): { key: string; op: Json } | undefined {
    const path = url.split('?')[0]!;
    const m = method === 'HEAD' ? 'GET' : method;
    const found = this.#operations.find((o) => o.method === m && o.pattern.test(path));
    return found ? { key: `${found.method} ${found.path}`, op: found.op } : undefined;
  }

  /** Asserts that an answer is one the description allows; returns false for undescribed routes. */
  check(method: string, url: string, status: number, contentType: string | null, body: string): boolean {
    const found = this.operationOf(method, url);
    if (!found) return false;
    const where = `${method} ${url} → ${status}`;
    const response = found.op.responses?.[String(status)] as Json | undefined;
    assert.ok(response, `${where}: status ${status} is not described for ${found.key} (described: ${Object.keys(found.op.responses ?? {}).join(', ')})`);
    let statuses = this.seen.get(found.key);
    if (!statuses) this.seen.set(found.key, (statuses = new Set()));
    statuses.add(status);
    if (method === 'HEAD' || !response.content) return true;
    const type = (contentType ?? '').split(';')[0]!.trim();
    const described = Object.keys(response.content as Json);
    const media = described.find((d) => d === type || (d.endsWith('/*') && type.startsWith(d.slice(0, -1))));
    assert.ok(media, `${where}: content type "${type}" is not one of ${described.join(', ')}`);
    const schema = (response.content as Json)[media].schema as Json | undefined;
    if (!schema) return true;
    if (media === 'application/json') this.#validate(`${found.key} ${status}`, schema, JSON.parse(body), where);
    else if (media === 'application/x-ndjson') for (const line of body.split('\n').filter((l) => l !== '')) this.#validate(`${found.key} ${status}`, schema, JSON.parse(line), where);
    return true;
  }

  #validate(key: string, schema: Json, value: unknown, where: string): void {
    let validate = this.#validators.get(key);
    if (!validate) {
      // Refs point into the document's components: give the schema a root that has them.
      validate = this.#ajv.compile({ ...schema, components: this.document.components });
      this.#validators.set(key, validate);
    }
    assert.ok(validate(value), `${where}: the body does not match /openapi.json: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
  }

  /** Operations (of the given tags) not yet seen answering a success (2xx) and an error (4xx/5xx). */
  uncovered(tags: readonly string[]): string[] {
    const missing: string[] = [];
    for (const { method, path, op } of this.#operations) {
      if (!tags.includes((op.tags as string[])[0]!)) continue;
      const statuses = [...(this.seen.get(`${method} ${path}`) ?? [])];
      if (!statuses.some((s) => s < 300)) missing.push(`${method} ${path}: no success seen`);
      // Public routes (probes, metrics, this description) have no error a client can cause.
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (!isPublic && !statuses.some((s) => s >= 400)) missing.push(`${method} ${path}: no error seen`);
    }
    return missing;
  }
}
