import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { EnableCors, type CorsPolicyBuilder } from 'nest-identity-cors';

// The identity endpoints and a host API beside them, shared by the e2e specs on identity CORS, module options and overrides.

export const SPA = 'https://spa.example';
export const PARTNER = 'https://partner.example';
export const EVIL = 'https://evil.example';

@Controller()
export class IdentityController {
  @Get('.well-known/openid-configuration') discovery() { return { issuer: 'https://id.example' }; }
  @Get('.well-known/openid-configuration/jwks') jwks() { return { keys: [] }; }
  @Post('connect/token') token() { return { access_token: 't' }; }
  @Get('connect/userinfo') userinfo() { return { sub: 'alice' }; }
  @Post('connect/revocation') revoke() { return ''; }
  @Get('connect/authorize') authorize() { return 'login page'; }
}

@Controller('api')
export class ApiController {
  @Get('partner') @EnableCors('partner') partner() { return 'partner'; }
  @Get('plain') plain() { return 'plain'; }
}

export const clients = [
  { clientId: 'spa', allowedCorsOrigins: [SPA] },
  { clientId: 'off', allowedCorsOrigins: ['https://off.example'], enabled: false },
];
export const policies = { partner: (b: CorsPolicyBuilder) => b.withOrigins(PARTNER).allowCredentials() };
export const server = (app: INestApplication) => request(app.getHttpServer());
export const acao = (res: request.Response) => res.headers['access-control-allow-origin'];
