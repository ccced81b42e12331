import { Controller, Get, Headers } from '@nestjs/common';
import { DisableCors, EnableCors } from 'nest-identity-cors';

/** The host's own API, with its own named policies beside the identity endpoints' CORS. */
@Controller('api')
export class ApiController {
  /** Any origin may read it, without credentials (`Access-Control-Allow-Origin: *`). */
  @Get('public')
  @EnableCors('public')
  public() {
    return { message: 'Public data: any origin may read this.', time: new Date().toISOString() };
  }

  /** Only the partner origin, with credentials (cookies) allowed. */
  @Get('partner')
  @EnableCors('partner')
  partner(@Headers('origin') origin?: string) {
    return { message: 'Partner data: only the partner origin may read this, with credentials.', origin: origin ?? null };
  }

  /** No CORS at all: browsers on other origins cannot read it. */
  @Get('internal')
  @DisableCors()
  internal() {
    return { message: 'Internal data: same-origin callers only.' };
  }
}
