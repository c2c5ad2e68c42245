import { Counter, Histogram, type Registry } from 'prom-client';
import type { UploadedFile } from './uploads.js';

/** The service's own metrics, next to the shared ones (queue depths, process) in its registry. */
export class ServiceMetrics {
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly uploads: Counter<'outcome' | 'code'>;
  readonly uploadBytes: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.requests =
      existing('facepipe_http_request_duration_seconds') ??
      new Histogram({
        name: 'facepipe_http_request_duration_seconds',
        help: 'HTTP requests to the service, by route pattern and status',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      });
    this.uploads =
      existing('facepipe_uploads_total') ??
      new Counter({ name: 'facepipe_uploads_total', help: 'Uploaded files by outcome (queued, duplicate, rejected) and rejection code', labelNames: ['outcome', 'code'], registers });
    this.uploadBytes = existing('facepipe_upload_bytes_total') ?? new Counter({ name: 'facepipe_upload_bytes_total', help: 'Bytes of uploaded files', registers });
  }

  recordUpload(file: UploadedFile, bytes: number): void {
    const outcome = file.status === 'rejected' ? 'rejected' : file.duplicate ? 'duplicate' : 'queued';
    this.uploads.inc({ outcome, code: file.error?.code ?? '' });
    this.uploadBytes.inc(bytes);
  }
}
