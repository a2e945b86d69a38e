import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ApiKeyAdmin, ApiKeyInputError, ApiScope } from '@app/api-keys';
import { ApiKeyNameTakenError, ApiKeyRecord } from '@app/database';
import { BadUserInputError } from '../errors/api-error';
import { ApiKeyCache } from './api-key-cache.service';
import { ApiKeyNameArgs, CreateApiKeyArgs } from './dto/api-key.args';
import { ApiKey, CreatedApiKey } from './models/api-key.model';
import { RequiresScope } from './requires-scope.decorator';

@Resolver()
export class ApiKeysResolver {
  constructor(
    private readonly admin: ApiKeyAdmin,
    private readonly cache: ApiKeyCache,
  ) {}

  @RequiresScope('admin')
  @Mutation(() => CreatedApiKey, {
    description: 'Creates a key with these scopes; its plaintext is in this answer only.',
  })
  async createApiKey(@Args() { name, scopes }: CreateApiKeyArgs): Promise<CreatedApiKey> {
    const created = await this.changing(() => this.admin.create(name, scopes));
    return { key: created.key, apiKey: asModel(created.record) };
  }

  @RequiresScope('admin')
  @Query(() => [ApiKey], {
    description: 'Every key, revoked ones included, oldest first; never their plaintext or hash.',
  })
  async apiKeys(): Promise<ApiKey[]> {
    return (await this.admin.list()).map(asModel);
  }

  @RequiresScope('admin')
  @Mutation(() => ApiKey, {
    description:
      'Revokes the key: refused at once by this process, by the others on the change message or within API_KEY_CACHE_SECONDS.',
  })
  async revokeApiKey(@Args() { name }: ApiKeyNameArgs): Promise<ApiKey> {
    return asModel(await this.changing(() => this.admin.revoke(name)));
  }

  /** Bad names become BAD_USER_INPUT; this process's cache is current before the answer goes out. */
  private async changing<T>(change: () => Promise<T>): Promise<T> {
    try {
      const result = await change();
      await this.cache.reload();
      return result;
    } catch (err) {
      if (err instanceof ApiKeyInputError || err instanceof ApiKeyNameTakenError)
        throw new BadUserInputError(err.message);
      throw err;
    }
  }
}

const asModel = (record: ApiKeyRecord): ApiKey => ({ ...record, scopes: record.scopes as ApiScope[] });
