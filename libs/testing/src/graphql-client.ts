import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

/** An answer's data as tests read it: untyped JSON whose shape the test's expectations check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type UntypedData = Record<string, any>;

export interface GraphqlResponse<T = UntypedData> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

/** POST /graphql through supertest, as a client would. */
export async function gql<T = UntypedData>(
  app: NestFastifyApplication,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphqlResponse<T>> {
  const res = await request(app.getHttpServer()).post('/graphql').set(headers).send({ query, variables });
  const body = res.body as Partial<Pick<GraphqlResponse<T>, 'data' | 'errors'>>;
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

export const firstErrorCode = (res: GraphqlResponse): string | undefined => res.errors?.[0]?.extensions?.code;
