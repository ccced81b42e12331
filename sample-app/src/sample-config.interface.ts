import type { SampleClient } from './clients/sample-client.interface.js';

/** What the sample's controllers need to know; the injection token has the same name. */
export interface SampleConfig {
  /** The issuer URL, e.g. http://localhost:3000; every endpoint URL is built from it. */
  issuer: string;
  clients: SampleClient[];
}

export const SampleConfig = Symbol('SampleConfig');
