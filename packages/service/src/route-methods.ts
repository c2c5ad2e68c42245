/** A registered route: its method and URL pattern (`:param` segments, a trailing `*`). */
export interface RouteEntry {
  method: string;
  url: string;
}

function patternOf(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}$`);
}

/**
 * The methods a path is served with, for 405 Method Not Allowed and its `Allow` header. Routes
 * are compiled on first use (all are registered by then) — the list only grows at start.
 */
export class RouteMethods {
  #compiled: { method: string; pattern: RegExp }[] | undefined;
  #seen = 0;

  constructor(readonly routes: readonly RouteEntry[]) {}

  allowed(path: string): string[] {
    if (this.#compiled === undefined || this.#seen !== this.routes.length) {
      this.#compiled = this.routes.map((r) => ({ method: r.method, pattern: patternOf(r.url) }));
      this.#seen = this.routes.length;
    }
    const methods = new Set<string>();
    for (const route of this.#compiled) if (route.pattern.test(path)) methods.add(route.method);
    return [...methods].sort();
  }
}
