import { loadConfig } from '@facepipe/core';
import { Producer } from '@facepipe/producer';

/** Connects to the deployment the environment names (REDIS_URL, S3_*). */
export async function connectProducer(service: string): Promise<Producer> {
  return Producer.connect(loadConfig(), service);
}

/** Runs `fn` with a connected producer and always closes it. */
export async function withProducer<T>(service: string, fn: (producer: Producer) => Promise<T>): Promise<T> {
  const producer = await connectProducer(service);
  try {
    return await fn(producer);
  } finally {
    await producer.close();
  }
}
