/**
 * A URL with its password replaced by `***` (REDIS_URL of a local deployment carries one), for
 * messages and logs; anything that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
