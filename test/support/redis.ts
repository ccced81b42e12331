import { Redis } from 'ioredis';

/** REDIS_URL, checked: when it is set, Redis must answer, or the suite fails with a clear message (never skips). */
export async function requireRedis(): Promise<string> {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`REDIS_URL is set (${url}) but Redis cannot be used: ${(error as Error).message.replace(/\.$/, '')}. Start Redis or unset REDIS_URL.`, { cause: error });
  } finally {
    client.disconnect();
  }
  return url;
}

/** Polls `check` until it is true or `ms` have passed; resolves to whether it became true. */
export async function eventually(check: () => Promise<boolean>, ms: number, every = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
