import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';

export const MIGRATIONS_TABLE = 'recoder_migrations';

/** The one DataSource definition, shared by the apps, the CLI scripts and the tests. */
export function dataSourceOptions(
  url: string,
  { statementTimeoutMs }: { statementTimeoutMs?: number } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    // compiled (dist/migrations/*.js) or source (ts under jest): whichever is running
    migrations: [join(__dirname, '..', '..', '..', 'migrations', '*.{js,ts}')],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    // the schema belongs to the migrations, never to the entities
    synchronize: false,
    // statement_timeout: Postgres cancels a statement running longer (unset: no limit)
    extra: {
      max: 10,
      application_name: 'recoder',
      onConnect: keepConnectionErrorsHandled,
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    },
  };
}

/**
 * Every pooled connection listens for its own errors from the start. Between the pool handing a new
 * connection out and TypeORM listening on it there is a moment (the same network read as the
 * connection's first ReadyForQuery) in which a server-side termination (a failover,
 * pg_terminate_backend) is emitted to nobody, which crashes the process. The error is not lost: the
 * connection is marked unusable, its next query fails, and the pool drops it on release.
 */
function keepConnectionErrorsHandled(client: { on(event: 'error', listener: () => void): unknown }): void {
  client.on('error', () => undefined);
}

export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}
