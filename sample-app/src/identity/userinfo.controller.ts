import { Controller, Get, HttpStatus, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { findUser } from './demo-users.js';
import { claimsFor, TokenService } from './token.service.js';

/** The UserInfo endpoint (OIDC Core §5.3): a Bearer access token in, the user's claims out. */
@Controller('connect/userinfo')
export class UserInfoController {
  constructor(private readonly tokens: TokenService) {}

  @Get()
  get(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.userinfo(req, res);
  }

  @Post()
  post(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.userinfo(req, res);
  }

  private async userinfo(req: Request, res: Response) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(req.headers.authorization ?? '');
    if (!match) return this.unauthorized(res, 'invalid_request', 'send the access token as Authorization: Bearer <token>');
    try {
      const payload = await this.tokens.verifyAccessToken(match[1]!);
      const user = findUser(payload.sub);
      if (!user) return this.unauthorized(res, 'invalid_token', 'the user no longer exists');
      res.setHeader('Cache-Control', 'no-store');
      return claimsFor(user, payload.scope.split(' '));
    } catch (error) {
      return this.unauthorized(res, 'invalid_token', (error as Error).message);
    }
  }

  /** RFC 6750 §3: the reason goes in WWW-Authenticate, which the identity CORS policy exposes to browsers. */
  private unauthorized(res: Response, error: string, description: string): never {
    const quoted = description.replace(/["\\]/g, "'");
    res.setHeader('WWW-Authenticate', `Bearer error="${error}", error_description="${quoted}"`);
    throw new UnauthorizedException({ error, error_description: description, statusCode: HttpStatus.UNAUTHORIZED });
  }
}
