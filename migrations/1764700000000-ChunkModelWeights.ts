import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Model blobs move from one bytea column to 32 MB chunks: a bytea value is capped at 1 GB and
 * reaches the client as hex text twice its size, which a 200,000-item model (~960 MB) exceeds.
 */
export class ChunkModelWeights1764700000000 implements MigrationInterface {
  name = 'ChunkModelWeights1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_weight_chunks (
        version integer NOT NULL REFERENCES model_versions (version) ON DELETE CASCADE,
        seq     integer NOT NULL,
        data    bytea NOT NULL,
        PRIMARY KEY (version, seq)
      )`);
    // existing blobs become single chunks (they were small enough to be stored at all)
    await q.query(
      `INSERT INTO model_weight_chunks (version, seq, data) SELECT version, 0, weights FROM model_versions WHERE weights IS NOT NULL`,
    );
    await q.query(`ALTER TABLE model_versions DROP COLUMN weights`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions ADD COLUMN weights bytea`);
    await q.query(`
      UPDATE model_versions m SET weights = c.blob
      FROM (SELECT version, string_agg(data, ''::bytea ORDER BY seq) AS blob FROM model_weight_chunks GROUP BY version) c
      WHERE c.version = m.version`);
    await q.query(`DROP TABLE model_weight_chunks`);
  }
}
