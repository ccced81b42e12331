import { Body, Controller, Get, HttpStatus, Inject, Post, Query, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { SampleClient } from '../clients/sample-client.interface.js';
import { SampleConfig } from '../sample-config.interface.js';
import { ClientRegistry } from './client-registry.js';
import { checkCredentials } from './demo-users.js';
import { GrantStore } from './grant.store.js';
import { errorPage, loginPage } from './login-page.js';
import { isS256Challenge } from './pkce.js';

/** The authorize parameters the sample understands; they round-trip through the login form. */
const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce'] as const;
type AuthorizeParams = Partial<Record<(typeof AUTHORIZE_PARAMS)[number], string>>;

type Checked =
  | { kind: 'fatal'; message: string } // cannot redirect: show an error page
  | { kind: 'redirect-error'; redirectUri: string; error: string; description: string; state?: string }
  | { kind: 'ok'; client: SampleClient; redirectUri: string; scope: string[]; params: Record<string, string> };

const single = (value: unknown) => (typeof value === 'string' ? value : undefined);

// the login form must not be framed (clickjacking) nor cached
const HTML_HEADERS = { 'Content-Type': 'text/html; charset=utf-8', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' };

/** The platform's response (Express's or Fastify's): written through Nest's HTTP adapter, so the controller runs on both. */
type PlatformResponse = unknown;

/**
 * The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): a top-level navigation, not a CORS
 * request. GET shows the login form; POST checks the user and sends a one-time code to the client.
 */
@Controller('connect/authorize')
export class AuthorizeController {
  constructor(
    @Inject(SampleConfig) private readonly config: SampleConfig,
    private readonly clients: ClientRegistry,
    private readonly grants: GrantStore,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  show(@Query() query: Record<string, unknown>, @Res() res: PlatformResponse): void {
    const checked = this.check(query);
    if (checked.kind !== 'ok') return this.fail(res, checked);
    this.html(res, HttpStatus.OK, loginPage(checked.client.clientName ?? checked.client.clientId, checked.params));
  }

  @Post()
  login(@Body() body: Record<string, unknown>, @Res() res: PlatformResponse): void {
    const checked = this.check(body ?? {});
    if (checked.kind !== 'ok') return this.fail(res, checked);
    const { client, redirectUri, scope, params } = checked;
    if (body.action === 'cancel') {
      return this.redirect(res, redirectUri, { error: 'access_denied', error_description: 'the user cancelled the sign-in', state: params.state });
    }
    const user = checkCredentials(body.username, body.password);
    if (!user) return this.html(res, HttpStatus.UNAUTHORIZED, loginPage(client.clientName ?? client.clientId, params, 'Wrong username or password.'));
    const code = this.grants.issueCode({
      clientId: client.clientId,
      sub: user.sub,
      scope,
      authTime: Math.floor(Date.now() / 1000),
      redirectUri,
      codeChallenge: params.code_challenge!,
      nonce: params.nonce,
    });
    this.redirect(res, redirectUri, { code, state: params.state });
  }

  private check(input: Record<string, unknown>): Checked {
    const raw: AuthorizeParams = Object.fromEntries(AUTHORIZE_PARAMS.map((name) => [name, single(input[name])]));
    if (!raw.client_id) return { kind: 'fatal', message: 'client_id is missing (or sent more than once): the client must send it once.' };
    const client = this.clients.find(raw.client_id);
    if (!client) return { kind: 'fatal', message: `Unknown or disabled client_id ${JSON.stringify(raw.client_id ?? null)}.` };
    const redirectUri = raw.redirect_uri;
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
      return { kind: 'fatal', message: `redirect_uri ${JSON.stringify(redirectUri ?? null)} is not registered for client '${client.clientId}'.` };
    }
    const redirectError = (error: string, description: string): Checked => ({ kind: 'redirect-error', redirectUri, error, description, state: raw.state });
    if (raw.response_type !== 'code') return redirectError('unsupported_response_type', 'only response_type=code is supported');
    const scope = (raw.scope ?? '').split(' ').filter(Boolean);
    if (!scope.includes('openid')) return redirectError('invalid_scope', "scope must include 'openid'");
    const notAllowed = scope.filter((s) => !client.allowedScopes.includes(s));
    if (notAllowed.length > 0) return redirectError('invalid_scope', `scope not allowed for this client: ${notAllowed.join(' ')}`);
    if (raw.code_challenge_method !== 'S256' || !isS256Challenge(raw.code_challenge)) {
      return redirectError('invalid_request', 'PKCE is required: send code_challenge (43 base64url characters) with code_challenge_method=S256');
    }
    const params = Object.fromEntries(Object.entries(raw).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return { kind: 'ok', client, redirectUri, scope: [...new Set(scope)], params };
  }

  private fail(res: PlatformResponse, checked: Exclude<Checked, { kind: 'ok' }>): void {
    if (checked.kind === 'fatal') return this.html(res, HttpStatus.BAD_REQUEST, errorPage(checked.message));
    const { redirectUri, error, description, state } = checked;
    this.redirect(res, redirectUri, { error, error_description: description, state });
  }

  /** Back to the client with the response parameters, plus `iss` (RFC 9207) against mix-up attacks. */
  private redirect(res: PlatformResponse, redirectUri: string, params: Record<string, string | undefined>): void {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries({ ...params, iss: this.config.issuer })) if (value !== undefined) url.searchParams.set(name, value);
    this.adapterHost.httpAdapter.redirect(res, HttpStatus.SEE_OTHER, url.href);
  }

  private html(res: PlatformResponse, status: number, body: string): void {
    const http = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(HTML_HEADERS)) http.setHeader(res, name, value);
    http.reply(res, body, status);
  }
}
