import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A key as listed: everything but its hash. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What a request is checked against: the hashes of the keys not revoked. */
export interface ActiveApiKey {
  id: number;
  name: string;
  keyHash: string;
  scopes: string[];
}

export class ApiKeyNameTakenError extends Error {
  constructor(name: string) {
    super(`an API key named "${name}" already exists (names stay taken after a revoke: pick a new one to rotate)`);
  }
}

const RECORD_COLUMNS = `id, name, scopes, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;
const UNIQUE_VIOLATION = '23505';

@Injectable()
export class ApiKeyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(name: string, keyHash: string, scopes: readonly string[]): Promise<ApiKeyRecord> {
    try {
      const rows: ApiKeyRecord[] = await this.db.query(
        `INSERT INTO api_keys (name, key_hash, scopes) VALUES ($1, $2, $3::text[]) RETURNING ${RECORD_COLUMNS}`,
        [name, keyHash, scopes],
      );
      return rows[0];
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new ApiKeyNameTakenError(name);
      throw err;
    }
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.db.query(`SELECT ${RECORD_COLUMNS} FROM api_keys ORDER BY created_at, id`);
  }

  active(): Promise<ActiveApiKey[]> {
    return this.db.query(`SELECT id, name, key_hash AS "keyHash", scopes FROM api_keys WHERE revoked_at IS NULL`);
  }

  /** Revokes the key; null if there is no key of that name. Revoking twice keeps the first time. */
  async revoke(name: string): Promise<ApiKeyRecord | null> {
    // an UPDATE's result is [rows, affected count] in TypeORM's postgres driver
    const [rows]: [ApiKeyRecord[], number] = await this.db.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1 RETURNING ${RECORD_COLUMNS}`,
      [name],
    );
    return rows[0] ?? null;
  }

  /** Writes a batch of last-use times (key id -> time) in one statement; an older time never overwrites a newer one. */
  async recordUse(lastUse: ReadonlyMap<number, Date>): Promise<void> {
    if (lastUse.size === 0) return;
    await this.db.query(
      `UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, u.at)
       FROM unnest($1::int[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id`,
      [[...lastUse.keys()], [...lastUse.values()]],
    );
  }
}
