// A Nest app with the package's CORS; both scripts start it, with whichever build they loaded first.
require('reflect-metadata');
const { request } = require('node:http');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

exports.serveCors = async function serveCors({ IdentityCorsModule }) {
  class UserInfo {
    get() {
      return { sub: 'alice' };
    }
  }
  Controller('connect/userinfo')(UserInfo);
  Get()(UserInfo.prototype, 'get', Object.getOwnPropertyDescriptor(UserInfo.prototype, 'get'));
  class AppModule {}
  Module({
    imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: ['https://app.example'] }] } })],
    controllers: [UserInfo],
  })(AppModule);
  const nest = await NestFactory.create(AppModule, { logger: false });
  await nest.listen(0, '127.0.0.1');
  const allowOrigin = await new Promise((done, failed) =>
    request({ host: '127.0.0.1', port: nest.getHttpServer().address().port, path: '/connect/userinfo', headers: { origin: 'https://app.example' } }, (res) => {
      res.resume();
      res.on('end', () => done(res.headers['access-control-allow-origin']));
    })
      .on('error', failed)
      .end(),
  );
  await nest.close();
  if (allowOrigin !== 'https://app.example') throw new Error(`the app did not serve CORS: ${allowOrigin}`);
};

// The second build must not load: it stops with the message that says what happened and what to do.
exports.expectRefused = function expectRefused(error, first) {
  const message = String(error && error.message);
  for (const part of ['nest-identity-cors was loaded twice in one process', `${first} first`, 'Load it one way only'])
    if (!message.includes(part)) throw new Error(`loading the second build failed without saying "${part}": ${message}`);
};
