import { Controller, Get, Headers, HttpStatus, Post, Res, UnauthorizedException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { findUser } from './demo-users.js';
import { claimsFor, TokenService } from './token.service.js';

/** The UserInfo endpoint (OIDC Core §5.3): a Bearer access token in, the user's claims out. */
@Controller('connect/userinfo')
export class UserInfoController {
  constructor(
    private readonly tokens: TokenService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  // `res` is the platform's response (Express's or Fastify's), written through Nest's HTTP adapter
  @Get()
  get(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: unknown) {
    return this.userinfo(authorization, res);
  }

  @Post()
  post(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: unknown) {
    return this.userinfo(authorization, res);
  }

  private async userinfo(authorization: string | undefined, res: unknown) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(authorization ?? '');
    if (!match) return this.unauthorized(res, 'invalid_request', 'send the access token as Authorization: Bearer <token>');
    try {
      const payload = await this.tokens.verifyAccessToken(match[1]!);
      const user = findUser(payload.sub);
      if (!user) return this.unauthorized(res, 'invalid_token', 'the user no longer exists');
      this.adapterHost.httpAdapter.setHeader(res, 'Cache-Control', 'no-store');
      return claimsFor(user, payload.scope.split(' '));
    } catch (error) {
      return this.unauthorized(res, 'invalid_token', (error as Error).message);
    }
  }

  /** RFC 6750 §3: the reason goes in WWW-Authenticate, which the identity CORS policy exposes to browsers. */
  private unauthorized(res: unknown, error: string, description: string): never {
    const quoted = description.replace(/["\\]/g, "'");
    this.adapterHost.httpAdapter.setHeader(res, 'WWW-Authenticate', `Bearer error="${error}", error_description="${quoted}"`);
    throw new UnauthorizedException({ error, error_description: description, statusCode: HttpStatus.UNAUTHORIZED });
  }
}
