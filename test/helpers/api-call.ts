import type { OpenApiContract } from './openapi-contract.js';

export type ApiCall = (method: string, path: string, body?: FormData | object, headers?: Record<string, string>) => Promise<{ status: number; json: any }>;

/**
 * A JSON/multipart caller of a running service that checks every answer against its OpenAPI
 * description (when the contract is loaded). `base` and `contract` are read at each call, as tests
 * start the service in `before`.
 */
export function apiCaller(base: () => string, contract: () => OpenApiContract | undefined, defaultHeaders: Record<string, string>): ApiCall {
  return async (method, path, body, headers = defaultHeaders) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(`${base()}${path}`, init);
    const text = await res.text();
    contract()?.check(method, path, res.status, res.headers.get('content-type'), text);
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}
