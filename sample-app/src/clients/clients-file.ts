import { readFileSync } from 'node:fs';
import { DEFAULT_SCOPES, type SampleClient } from './sample-client.interface.js';

/** A clients file the sample cannot use; the message names the file, the value and the fix. */
export class ClientsFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Clients file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClientsFileError';
  }
}

function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `${JSON.stringify(value)} is not a URL: use e.g. 'http://localhost:4200/callback.html'`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `'${value}' is not an absolute URL: use e.g. 'http://localhost:4200/callback.html'`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `'${value}' must use http or https`;
  if (url.hash !== '') return `'${value}' must not contain a fragment (#...)`;
  return undefined;
}

/**
 * Reads `{ "clients": [...] }` and checks the OAuth fields. The CORS fields (`allowedCorsOrigins`,
 * `enabled`) are left to the library, which validates them at startup with its own fix-it messages.
 */
export function readClientsFile(file: string): SampleClient[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClientsFileError(file, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): create it or point CLIENTS_FILE at one`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ClientsFileError(file, [`is not valid JSON: ${(error as Error).message}`]);
  }
  const clients = (json as { clients?: unknown } | null)?.clients;
  if (!Array.isArray(clients)) throw new ClientsFileError(file, ['must be an object { "clients": [ { "clientId": ..., "redirectUris": [...], "allowedCorsOrigins": [...] } ] }']);

  const problems: string[] = [];
  const seen = new Set<string>();
  const result = clients.map((raw: Record<string, unknown>, index): SampleClient => {
    const at = typeof raw?.clientId === 'string' ? `client '${raw.clientId}'` : `clients[${index}]`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${at} must be an object`);
      return raw;
    }
    if (typeof raw.clientId === 'string') {
      if (seen.has(raw.clientId)) problems.push(`${at} is listed twice: client ids must be unique`);
      seen.add(raw.clientId);
    }
    if (!Array.isArray(raw.redirectUris) || raw.redirectUris.length === 0) {
      problems.push(`${at}: redirectUris must be a non-empty array such as ["http://localhost:4200/callback.html"]`);
    } else {
      raw.redirectUris.forEach((uri, i) => {
        const problem = redirectUriProblem(uri);
        if (problem) problems.push(`${at}: redirectUris[${i}] ${problem}`);
      });
    }
    const scopes = raw.allowedScopes ?? DEFAULT_SCOPES;
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
      problems.push(`${at}: allowedScopes must be an array of scope names such as ["openid", "profile"]`);
    } else if (!scopes.includes('openid')) {
      problems.push(`${at}: allowedScopes must include "openid" (this is an OpenID Connect server)`);
    }
    return { ...(raw as unknown as SampleClient), allowedScopes: scopes as string[] };
  });
  if (problems.length > 0) throw new ClientsFileError(file, problems);
  return result;
}
