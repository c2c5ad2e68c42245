declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { Readable } from 'node:stream';
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  /** The parts of s3rver's FilesystemStore facepipe replaces or calls (see embedded-s3.ts). */
  interface S3rverStore {
    getResourcePath(bucket: string, key: string, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    putObject(object: {
      bucket: string;
      key: string;
      metadata: Record<string, string>;
      content: Buffer | Readable;
    }): Promise<{ size: number; md5: string }>;
  }
  class S3rver {
    constructor(options?: S3rverOptions);
    store: S3rverStore;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    httpServer?: Server;
  }
  export default S3rver;
}
