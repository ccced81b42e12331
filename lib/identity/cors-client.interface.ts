import { InvalidOriginError, normalizeOrigin } from '../core/origin.js';

/** The CORS-relevant part of an OAuth/OIDC client registration. */
export interface CorsClient {
  clientId: string;
  /** Origins (not URLs) of the browser apps of this client, e.g. `https://app.example.com`. */
  allowedCorsOrigins: string[];
  /** Disabled clients' origins are not allowed. Default true. */
  enabled?: boolean;
}

/**
 * Every problem with one client's CORS settings, each naming the client and the fix.
 * Shared by option validation and every client store, so all reject the same input the same way.
 */
export function clientProblems(client: unknown, at = 'client'): string[] {
  if (typeof client !== 'object' || client === null) return [`${at} must be an object { clientId, allowedCorsOrigins, enabled? }`];
  const { clientId, allowedCorsOrigins, enabled } = client as Partial<CorsClient>;
  const problems: string[] = [];
  const name = typeof clientId === 'string' && clientId.trim() !== '' ? `client '${clientId}'` : at;
  if (typeof clientId !== 'string' || clientId.trim() === '') problems.push(`${at}: clientId must be a non-empty string`);
  if (enabled !== undefined && typeof enabled !== 'boolean') problems.push(`${name}: enabled must be true or false`);
  if (!Array.isArray(allowedCorsOrigins)) {
    problems.push(`${name}: allowedCorsOrigins must be an array of origins such as ['https://app.example.com']`);
  } else {
    allowedCorsOrigins.forEach((origin, index) => {
      try {
        normalizeOrigin(origin);
      } catch (error) {
        problems.push(`${name}: allowedCorsOrigins[${index}] ${(error as Error).message}`);
      }
    });
  }
  return problems;
}

/** The client with its origins normalized, or an InvalidOriginError listing every problem. */
export function normalizeClient(client: CorsClient): Required<CorsClient> {
  const problems = clientProblems(client);
  if (problems.length > 0) throw new InvalidOriginError(client, problems.join('; '));
  return {
    clientId: client.clientId,
    enabled: client.enabled !== false,
    allowedCorsOrigins: [...new Set(client.allowedCorsOrigins.map(normalizeOrigin))],
  };
}
