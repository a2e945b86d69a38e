import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

export interface GraphqlResponse<T = Record<string, any>> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

/** POST /graphql through supertest, as a client would. */
export async function gql<T = Record<string, any>>(
  app: NestFastifyApplication,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphqlResponse<T>> {
  const res = await request(app.getHttpServer()).post('/graphql').set(headers).send({ query, variables });
  return { status: res.status, data: res.body.data ?? null, errors: res.body.errors };
}

export const firstErrorCode = (res: GraphqlResponse): string | undefined => res.errors?.[0]?.extensions?.code;
