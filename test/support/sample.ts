import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, PLATFORMS, type RunningSample, type SampleOptions, type SamplePlatform } from '../../sample-app/src/bootstrap.js';

/**
 * The platforms the sample's tests run on, for describe.each: both (the sample's own PLATFORMS), or only the one
 * NEST_PLATFORM names when a Jest run is given one platform.
 */
export function samplePlatforms(env: NodeJS.ProcessEnv = process.env): readonly SamplePlatform[] {
  const only = env.NEST_PLATFORM;
  if (only === undefined || only === '') return PLATFORMS;
  if (!(PLATFORMS as readonly string[]).includes(only)) throw new Error(`NEST_PLATFORM '${only}' is not a platform of the sample: use ${PLATFORMS.join(' or ')}, or unset it for both`);
  return [only as SamplePlatform];
}

/** A port the OS says is free right now (listen on 0, read it, close), so parallel runs never collide. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Writes `{ clients }` to a fresh temp directory and returns the file's path and a cleanup. */
export async function tempClientsFile(clients: unknown[]): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sample-clients-'));
  const file = join(dir, 'clients.json');
  await writeFile(file, JSON.stringify({ clients }, null, 2));
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestSample extends RunningSample {
  allowedOrigin: string;
  deniedOrigin: string;
  stop(): Promise<void>;
}

/**
 * The sample on free ports, with a temp clients file registering the `spa` client for the first SPA port.
 * A port found free can be taken by another test's connection before the sample listens on it: that
 * attempt is retried on fresh ports (bootstrap closes what it had started).
 */
export async function startTestSample(options: Partial<SampleOptions> = {}, attempts = 3): Promise<TestSample> {
  const [port, allowedPort, deniedPort] = [await freePort(), await freePort(), await freePort()];
  const allowedOrigin = `http://localhost:${allowedPort}`;
  const clients = await tempClientsFile([
    { clientId: 'spa', clientName: 'Sample SPA', redirectUris: [`${allowedOrigin}/callback.html`], allowedCorsOrigins: [allowedOrigin] },
  ]);
  try {
    const sample = await bootstrap({ port, spaPorts: [allowedPort!, deniedPort!], clientsFile: clients.file, logger: false, ...options });
    // a test titled with a platform must run on it
    const platform = sample.app.getHttpAdapter().getType();
    if (platform !== (options.platform ?? 'express')) {
      await sample.close();
      throw new Error(`the sample started on ${platform}, not on ${options.platform ?? 'express'}`);
    }
    const stop = async () => {
      await sample.close();
      await clients.remove();
    };
    return { ...sample, allowedOrigin, deniedOrigin: `http://localhost:${deniedPort}`, stop };
  } catch (error) {
    await clients.remove();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempts > 1) return startTestSample(options, attempts - 1);
    throw error;
  }
}
