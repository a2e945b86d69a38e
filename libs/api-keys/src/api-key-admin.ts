import type { RedisClient } from '@app/redis/redis-client';
import type { ApiKeyRecord, ApiKeyRepository } from '@app/database';
import { apiKeysChangedChannel } from './api-key-changes';
import { generateApiKey, hashApiKey } from './api-key-secret';
import { ApiScope, SCOPES } from './scopes';

export const MAX_KEY_NAME_LENGTH = 64;
/** Names are for people and logs: letters, digits and . _ - only. */
const KEY_NAME = /^[A-Za-z0-9._-]+$/;

/** What is wrong with a key name, or null; the admin mutations' argument rules and `npm run keys` both ask this. */
export function keyNameProblem(name: unknown): string | null {
  const fine = typeof name === 'string' && name.length > 0 && name.length <= MAX_KEY_NAME_LENGTH && KEY_NAME.test(name);
  return fine ? null : `must be 1-${MAX_KEY_NAME_LENGTH} letters, digits, ".", "_" or "-"`;
}

/** What is wrong with the scopes of a new key, or null (their names are checked where they are read: enum, parseScopes). */
export function keyScopesProblem(scopes: unknown): string | null {
  return Array.isArray(scopes) && scopes.length > 0 ? null : `must hold at least one scope (${SCOPES.join(', ')})`;
}

export class ApiKeyInputError extends Error {}

/** A key as created: the plaintext, shown this once and never stored. */
export interface CreatedApiKey {
  key: string;
  record: ApiKeyRecord;
}

/** Creating, listing and revoking keys; shared by the admin GraphQL fields and `npm run keys`. */
export class ApiKeyAdmin {
  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly redis: RedisClient,
  ) {}

  async create(name: string, scopes: readonly ApiScope[]): Promise<CreatedApiKey> {
    const problem = keyNameProblem(name);
    if (problem) throw new ApiKeyInputError(`a key name ${problem}`);
    const scopesProblem = keyScopesProblem(scopes);
    if (scopesProblem) throw new ApiKeyInputError(`a key's scopes ${scopesProblem}`);
    const key = generateApiKey();
    const record = await this.repository.create(name, hashApiKey(key), [...new Set(scopes)]);
    await this.announce();
    return { key, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.repository.list();
  }

  /** Revokes the named key; every API process refuses it once it has the message, or within its cache TTL. */
  async revoke(name: string): Promise<ApiKeyRecord> {
    const record = await this.repository.revoke(name);
    if (!record) throw new ApiKeyInputError(`no API key named "${name}"`);
    await this.announce();
    return record;
  }

  /** A Redis that is down only delays the change until each process's cache TTL runs out. */
  private async announce(): Promise<void> {
    await this.redis.publish(apiKeysChangedChannel(), '1').catch(() => undefined);
  }
}
