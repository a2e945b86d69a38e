import { Global, Module } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { STATEMENT_TIMEOUT_MS } from '@app/database';

/** Bounds every statement of the API's Postgres pool (STATEMENT_TIMEOUT_MS): no request holds a connection for long. */
@Global()
@Module({
  providers: [
    { provide: STATEMENT_TIMEOUT_MS, inject: [EnvVars], useFactory: (env: EnvVars) => env.STATEMENT_TIMEOUT_MS },
  ],
  exports: [STATEMENT_TIMEOUT_MS],
})
export class StatementTimeoutModule {}
