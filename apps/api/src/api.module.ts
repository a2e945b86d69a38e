import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigModule, graphiqlEnabled } from '@app/config';
import { HealthModule } from '@app/health';
import { RedisModule } from '@app/redis';
import { AuthModule } from './auth/auth.module';
import { withScopeNotes } from './auth/scope-notes';
import { AnomaliesModule } from './anomalies/anomalies.module';
import { EmbeddingsModule } from './embeddings/embeddings.module';
import { ExportsModule } from './exports/exports.module';
import { FeedbackModule } from './feedback/feedback.module';
import { COMPILE_AFTER_RUNS, mutationsUncompiled } from './graphql/compiled-queries';
import { documentValidationRules, MAX_QUERY_DEPTH, MAX_TOKENS } from './graphql/document-limits';
import { PlainFieldReads } from './graphql/plain-field-reads';
import { formatGraphqlErrors } from './errors/format-graphql-errors';
import { GraphqlExceptionFilter } from './errors/graphql-exception.filter';
import { InteractionsModule } from './interactions/interactions.module';
import { ItemsModule } from './items/items.module';
import { DateTimeScalar } from './scalars/date-time.scalar';
import { QueuesModule } from './queues/queues.module';
import { RecommendationsModule } from './recommendations/recommendations.module';
import { StatementTimeoutModule } from './statement-timeout.module';
import { StatsModule } from './stats/stats.module';
import { TrainingModule } from './training/training.module';
import { UsersModule } from './users/users.module';
import { InputValidationPipe } from './validation/input-validation.pipe';

/** The committed schema: regenerated when the app boots outside production, so a change shows in the diff. */
export const SCHEMA_FILE = join(__dirname, '..', '..', '..', 'schema.gql');

const buildSchemaOptions = { scalarsMap: [{ type: Date, scalar: DateTimeScalar }] };
const plainFieldReads = new PlainFieldReads(buildSchemaOptions);

@Module({
  imports: [
    ConfigModule,
    StatementTimeoutModule,
    RedisModule,
    // Mercurius, not Apollo: 2.65x the requests/s on a trivial query here (bench/graphql-driver.ts)
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: process.env.NODE_ENV === 'production' ? true : SCHEMA_FILE,
      sortSchema: true,
      // GraphiQL's page and assets need no key; its queries do
      graphiql: graphiqlEnabled(),
      // one request cannot ask for unbounded nesting
      queryDepth: MAX_QUERY_DEPTH,
      // ... nor unbounded breadth (aliases, fragments spread many times, expensive fields, introspection)
      validationRules: documentValidationRules,
      // ... nor a document too long to parse cheaply
      graphql: { parseOptions: { maxTokens: MAX_TOKENS } },
      jit: COMPILE_AFTER_RUNS,
      hooks: { preExecution: mutationsUncompiled },
      transformResolvers: plainFieldReads.noteResolvers,
      transformSchema: (schema) => withScopeNotes(plainFieldReads.apply(schema)),
      transformAutoSchemaFile: true,
      buildSchemaOptions,
      context: (req: FastifyRequest, reply: FastifyReply) => ({ req, reply }),
      errorFormatter: formatGraphqlErrors,
      // field resolvers (user.interactions) get the same error mapping and guards as root fields
      fieldResolverEnhancers: ['guards', 'filters'],
    }),
    HealthModule,
    AuthModule,
    FeedbackModule,
    InteractionsModule,
    ItemsModule,
    UsersModule,
    StatsModule,
    TrainingModule,
    RecommendationsModule,
    EmbeddingsModule,
    AnomaliesModule,
    ExportsModule,
    QueuesModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: GraphqlExceptionFilter },
    // every resolver's arguments, by their @ArgsType / @InputType classes' rules
    { provide: APP_PIPE, useClass: InputValidationPipe },
  ],
})
export class ApiModule {}
