// autocannon ships no types; the benchmark uses a small part of its API.
declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    requests?: (Request & { setupRequest?: (req: Request) => Request })[];
    [key: string]: unknown;
  }
  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p97_5: number;
    p99: number;
    max: number;
    [key: string]: number;
  }
  interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
    [key: string]: unknown;
  }
  interface Instance {
    on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): Instance;
    on(event: string, listener: (...args: unknown[]) => void): Instance;
  }
  function autocannon(options: Options, callback?: (err: Error | null, result: Result) => void): Instance & Promise<Result>;
  export default autocannon;
}
