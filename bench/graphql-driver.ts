/**
 * Which GraphQL driver answers a trivial query faster on the Fastify adapter: Mercurius or Apollo?
 * Each server runs in a child process (so autocannon does not share its event loop), is warmed up,
 * then loaded with autocannon; prints one JSON line per driver and the ratio.
 * npm run bench:graphql [-- --seconds 10 --connections 64]
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Field, GraphQLModule, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import autocannon from 'autocannon';
import { parseFlags, runCli } from '../scripts/cli';

type Driver = 'mercurius' | 'apollo';

@ObjectType()
class Ping {
  @Field() ok!: boolean;
}

@Resolver(() => Ping)
class PingResolver {
  @Query(() => Ping)
  ping(): Ping {
    return { ok: true };
  }
}

function graphqlModule(driver: Driver) {
  return driver === 'mercurius'
    ? GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true })
    : GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true });
}

async function serve(driver: Driver): Promise<void> {
  @Module({ imports: [graphqlModule(driver)], providers: [PingResolver] })
  class BenchModule {}
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
}

async function load(port: number, seconds: number, connections: number) {
  const request = {
    url: `http://127.0.0.1:${port}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ ping { ok } }' }),
  };
  await autocannon({ ...request, connections, duration: 2 }); // warm-up: JIT, schema caches
  const r = await autocannon({ ...request, connections, duration: seconds });
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

async function measure(driver: Driver, seconds: number, connections: number) {
  const child = fork(__filename, ['--serve', driver], { execArgv: process.execArgv, stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${driver} server exited with ${code}`)));
    });
    const result = await load(port, seconds, connections);
    const line = { bench: 'graphql_driver', driver, query: '{ ping { ok } }', connections, seconds, ...result };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return line;
  } finally {
    child.kill();
  }
}

if (process.argv[2] === '--serve') {
  void serve(process.argv[3] as Driver);
} else {
  runCli(async (args) => {
    const flags = parseFlags(args, ['seconds', 'connections']);
    const seconds = Number(flags.seconds ?? 10);
    const connections = Number(flags.connections ?? 64);
    const mercurius = await measure('mercurius', seconds, connections);
    const apollo = await measure('apollo', seconds, connections);
    return {
      bench: 'graphql_driver_ratio',
      mercurius_over_apollo: +(mercurius.reqPerSec / apollo.reqPerSec).toFixed(2),
    };
  });
}
