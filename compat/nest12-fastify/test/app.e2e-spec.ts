import { Test, TestingModule } from '@nestjs/testing';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { AppModule } from './../src/app.module.js';

describe('AppController (e2e)', () => {
  let app: NestFastifyApplication;

  beforeEach(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();

    app = moduleFixture.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  it('/ (GET)', () => {
    return request(app.getHttpServer())
      .get('/')
      .expect(200)
      .expect('Hello World!');
  });

  it('answers an identity path for a registered client\'s origin only', async () => {
    await request(app.getHttpServer())
      .get('/.well-known/openid-configuration')
      .set('Origin', 'https://app.example.com')
      .expect('Access-Control-Allow-Origin', 'https://app.example.com');
    const denied = await request(app.getHttpServer())
      .get('/.well-known/openid-configuration')
      .set('Origin', 'https://partner.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('applies the host policy to the app\'s own routes', async () => {
    await request(app.getHttpServer())
      .get('/')
      .set('Origin', 'https://partner.example.com')
      .expect(200)
      .expect('Access-Control-Allow-Origin', 'https://partner.example.com');
    await request(app.getHttpServer())
      .options('/')
      .set('Origin', 'https://partner.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204)
      .expect('Access-Control-Allow-Methods', 'GET');
    const denied = await request(app.getHttpServer())
      .get('/')
      .set('Origin', 'https://app.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  afterEach(async () => {
    await app.close();
  });
});
