import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUserAnomalies1764500000000 implements MigrationInterface {
  name = 'CreateUserAnomalies1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_anomalies (
        version     integer NOT NULL REFERENCES model_versions (version) ON DELETE CASCADE,
        user_id     text NOT NULL,
        score       real NOT NULL,
        percentile  real NOT NULL,
        PRIMARY KEY (version, user_id)
      )`);
    // "the most anomalous users" and "how many score below s" are both range scans of this
    await q.query(`CREATE INDEX user_anomalies_by_score ON user_anomalies (version, score)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_anomalies`);
  }
}
