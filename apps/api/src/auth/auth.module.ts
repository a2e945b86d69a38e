import { Global, Module } from '@nestjs/common';
import { ApiKeyAdmin } from '@app/api-keys';
import { ApiKeyRepository, DatabaseModule } from '@app/database';
import { REDIS, RedisClient } from '@app/redis';
import { ApiKeyCache } from './api-key-cache.service';
import { ApiKeysResolver } from './api-keys.resolver';
import { BrowserAccess } from './browser-access';
import { BrowserSessions } from './browser-sessions';
import { Credentials } from './credentials';
import { ScopeAccess } from './scope-access';
import { ScopeGuard } from './scope.guard';
import { SessionController } from './session.controller';
import { Signatures } from './signatures';

const SHARED = [ApiKeyCache, Credentials, ScopeAccess, ScopeGuard, BrowserAccess];

/** Keys, scopes, sessions and signed links; global, so every resolver's @RequiresScope guard finds them. */
@Global()
@Module({
  imports: [DatabaseModule],
  controllers: [SessionController],
  providers: [
    ...SHARED,
    BrowserSessions,
    Signatures,
    ApiKeysResolver,
    {
      provide: ApiKeyAdmin,
      inject: [ApiKeyRepository, REDIS],
      useFactory: (keys: ApiKeyRepository, redis: RedisClient) => new ApiKeyAdmin(keys, redis),
    },
  ],
  exports: SHARED,
})
export class AuthModule {}
