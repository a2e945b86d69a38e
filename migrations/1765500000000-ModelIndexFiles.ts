import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A version's approximate item index (issue #35): the files `ItemIndex.save` writes, in 32 MB
 * chunks as the weights are (gigabytes at 1M items). Only large catalogues have one; the API copies
 * them into a local directory and memory-maps them. Rows go with their version.
 */
export class ModelIndexFiles1765500000000 implements MigrationInterface {
  name = 'ModelIndexFiles1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_index_chunks (
        version integer NOT NULL REFERENCES model_versions (version) ON DELETE CASCADE,
        file    text NOT NULL,
        seq     integer NOT NULL,
        data    bytea NOT NULL,
        PRIMARY KEY (version, file, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_index_chunks`);
  }
}
