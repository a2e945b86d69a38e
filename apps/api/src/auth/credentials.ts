import { Injectable } from '@nestjs/common';
import '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import { ApiKeyCache } from './api-key-cache.service';
import { BrowserSessions, SESSION_COOKIE } from './browser-sessions';
import { ANONYMOUS, bearerKey, Caller } from './caller';

/** Who a request comes from; worked out once per request (a query's fields and the rate limit ask again). */
@Injectable()
export class Credentials {
  private readonly known = new WeakMap<FastifyRequest, Caller>();

  constructor(
    private readonly keys: ApiKeyCache,
    private readonly sessions: BrowserSessions,
  ) {}

  /** GraphQL and API clients: the Authorization header only (a cookie would let other pages' forms act for the user). */
  ofApiRequest(request: FastifyRequest): Caller {
    let caller = this.known.get(request);
    if (!caller) {
      const key = bearerKey(request.headers.authorization);
      caller = key === undefined ? ANONYMOUS : this.keys.callerOfKey(key);
      this.known.set(request, caller);
    }
    return caller;
  }

  /** Pages and downloads a browser opens: the Authorization header, else the session cookie. */
  ofBrowserRequest(request: FastifyRequest): Caller {
    if (request.headers.authorization !== undefined) return this.ofApiRequest(request);
    // parsed by @fastify/cookie (registered in http-plugins.ts)
    const token = request.cookies?.[SESSION_COOKIE];
    return token ? this.sessions.callerOf(token) : ANONYMOUS;
  }
}
