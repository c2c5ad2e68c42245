import { installShutdown, type FacepipeConfig } from '@facepipe/core';
import { ScheduledReindexWorker } from '@facepipe/producer';
import { startService } from './facepipe-service.js';
import { WebhookWorker } from './webhooks/webhook-worker.js';

export interface ServeOptions {
  config: FacepipeConfig;
  /** Overrides FACEPIPE_HTTP_HOST. */
  host?: string;
  /** Overrides FACEPIPE_HTTP_PORT (0 = a free port). */
  port?: number;
}

/**
 * A deployment's service process, the one entry point behind `facepipe serve`, the
 * `facepipe-service` bin, the image and the Kubernetes manifests: the HTTP service plus the
 * worker that runs scheduled re-index jobs (`facepipe schedules`; every deployment has a
 * service) and the webhook deliveries. Prints where it listens; stops on SIGTERM/SIGINT after in-flight requests and the
 * running re-index (a second signal forces) and then exits the process.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const service = await startService({ config: options.config, host: options.host, port: options.port });
  const schedules = new ScheduledReindexWorker(service.producer);
  const webhooks = new WebhookWorker(service.producer);
  try {
    await schedules.start();
    await webhooks.start();
  } catch (err) {
    await webhooks.close().catch(() => undefined);
    await schedules.close().catch(() => undefined);
    await service.close().catch(() => undefined);
    throw err;
  }
  process.stderr.write(`facepipe service at ${service.url} (dashboard: ${service.url}/dashboard)\n`);
  installShutdown({
    log: service.producer.ctx.log,
    graceful: async () => {
      await webhooks.close();
      await schedules.close();
      await service.close();
    },
    force: async () => undefined,
    forceAfterMs: 30_000,
  });
}
