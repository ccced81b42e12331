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
    const clientId = form.client_id;
    if (clientId === undefined || clientId === '') throw new OAuthError('invalid_request', 'client_id is missing: a public client sends its client_id in the form');
    if (typeof clientId !== 'string') throw new OAuthError('invalid_request', 'client_id was sent more than once: send it once');
    const client = this.find(clientId);
    if (!client) throw new OAuthError('invalid_client', `unknown or disabled client_id ${JSON.stringify(clientId)}`, HttpStatus.UNAUTHORIZED);
    return client;
  }
}
