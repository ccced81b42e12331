import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { SampleClient } from '../clients/sample-client.interface.js';
import { SampleConfig } from '../sample-config.interface.js';
import { OAuthError } from './oauth.error.js';

/** The OAuth side of the registered clients (redirect URIs, scopes); CORS is the library's business. */
@Injectable()
export class ClientRegistry {
  private readonly clients: Map<string, SampleClient>;

  constructor(@Inject(SampleConfig) config: SampleConfig) {
    this.clients = new Map(config.clients.map((client) => [client.clientId, client]));
  }

  /** The enabled client with this id, or undefined. */
  find(clientId: unknown): SampleClient | undefined {
    const client = typeof clientId === 'string' ? this.clients.get(clientId) : undefined;
    return client && client.enabled !== false ? client : undefined;
  }

  /** The client of a token or revocation request: public clients identify themselves by client_id alone. */
  authenticate(form: Record<string, unknown>): SampleClient {
    const client = this.find(form.client_id);
    if (!client) throw new OAuthError('invalid_client', `unknown or disabled client_id ${JSON.stringify(form.client_id ?? null)}`, HttpStatus.UNAUTHORIZED);
    return client;
  }
}
