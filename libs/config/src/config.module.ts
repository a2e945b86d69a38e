import { Global, Module } from '@nestjs/common';
import { EnvVars, getEnv } from './env';

/** Provides the validated EnvVars everywhere; a bad variable stops the boot with its name. */
@Global()
@Module({
  providers: [{ provide: EnvVars, useFactory: getEnv }],
  exports: [EnvVars],
})
export class ConfigModule {}
