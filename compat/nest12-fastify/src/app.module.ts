import { Module } from '@nestjs/common';
import { IdentityCorsModule } from 'nest-identity-cors';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [
    IdentityCorsModule.forRoot({
      identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: ['https://app.example.com'] }] },
      policies: { partner: (b) => b.withOrigins('https://partner.example.com').withMethods('GET') },
      globalPolicy: 'partner',
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
