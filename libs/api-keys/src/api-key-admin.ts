import type Redis from 'ioredis';
import type { ApiKeyRecord, ApiKeyRepository } from '@app/database';
import { API_KEYS_CHANGED_CHANNEL } from './api-key-changes';
import { generateApiKey, hashApiKey } from './api-key-secret';
import { ApiScope, SCOPES } from './scopes';

export const MAX_KEY_NAME_LENGTH = 64;
/** Names are for people and logs: letters, digits and . _ - only. */
const KEY_NAME = /^[A-Za-z0-9._-]+$/;

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
    private readonly redis: Redis,
  ) {}

  async create(name: string, scopes: readonly ApiScope[]): Promise<CreatedApiKey> {
    if (name.length === 0 || name.length > MAX_KEY_NAME_LENGTH || !KEY_NAME.test(name)) {
      throw new ApiKeyInputError(`a key name is 1-${MAX_KEY_NAME_LENGTH} letters, digits, ".", "_" or "-"`);
    }
    if (scopes.length === 0) throw new ApiKeyInputError(`a key needs at least one scope (${SCOPES.join(', ')})`);
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
    await this.redis.publish(API_KEYS_CHANGED_CHANNEL, '1').catch(() => undefined);
  }
}
