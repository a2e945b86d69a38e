import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FeedbackRole, FeedbackRules, FeedbackTypeRule, ValueCondition } from '@app/feedback';

/** A row of FEEDBACK_RULES_SQL's answer. */
export interface RulesRow {
  revision: number;
  rules: RuleRow[];
}

interface RuleRow {
  id: number;
  type: string;
  role: FeedbackRole;
  weight: number;
  conditions: ValueCondition[];
}

/** A stored rule, with the row id a training's COPY names it by. */
export interface StoredRule extends FeedbackTypeRule {
  id: number;
}

/**
 * Rules and the revision in one statement: one snapshot, so the revision names exactly these
 * rules (a change commits both together).
 */
const RULES_SQL = `SELECT (SELECT revision FROM feedback_rules_revision)::int AS revision,
  COALESCE((SELECT json_agg(json_build_object('id', id, 'type', type, 'role', role, 'weight', weight, 'conditions', conditions) ORDER BY type)
            FROM feedback_types), '[]'::json) AS rules`;

/** Event types' rules (feedback_types), read whole: there are a few, and every reader needs them all. */
@Injectable()
export class FeedbackTypeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async rules(): Promise<FeedbackRules> {
    return toRules(await this.db.query(RULES_SQL)).rules;
  }

  /** Declares a type, or replaces its rule; returns the revision that holds it. */
  async set(rule: FeedbackTypeRule): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO feedback_types (type, role, weight, conditions) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (type) DO UPDATE SET role = EXCLUDED.role, weight = EXCLUDED.weight,
           conditions = EXCLUDED.conditions, updated_at = now()`,
        [rule.type, rule.role, rule.weight, JSON.stringify(rule.conditions)],
      );
      return bump(tx);
    });
  }

  /** Forgets a type's rule (its events are then undeclared: POSITIVE of weight 1); false if there was none. */
  async remove(type: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // a CTE: TypeORM answers a bare DELETE with [rows, count]
      const [{ n }] = await tx.query<{ n: number }[]>(
        `WITH d AS (DELETE FROM feedback_types WHERE type = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [type],
      );
      if (n) await bump(tx);
      return n > 0;
    });
  }

  /**
   * Declares the types that have no rule yet (a config file's seeding); a type declared already
   * keeps its stored rule, which an admin may have changed since. Returns the types added.
   */
  async addMissing(rules: readonly FeedbackTypeRule[]): Promise<string[]> {
    if (rules.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const added: { type: string }[] = await tx.query(
        `INSERT INTO feedback_types (type, role, weight, conditions)
         SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::jsonb[])
         ON CONFLICT (type) DO NOTHING RETURNING type`,
        [
          rules.map((r) => r.type),
          rules.map((r) => r.role),
          rules.map((r) => r.weight),
          rules.map((r) => JSON.stringify(r.conditions)),
        ],
      );
      if (added.length) await bump(tx);
      return added.map((r) => r.type);
    });
  }
}

/** The rules a query of FEEDBACK_RULES_SQL read, and the stored rows (with their ids). */
export function toRules(rows: RulesRow[]): {
  rules: FeedbackRules;
  stored: StoredRule[];
} {
  const [row] = rows;
  const stored: StoredRule[] = row.rules.map((r) => ({
    id: r.id,
    type: r.type,
    role: r.role,
    weight: r.weight,
    conditions: r.conditions.map((c) => ({ role: c.role, min: c.min ?? null, max: c.max ?? null })),
  }));
  return { rules: new FeedbackRules(stored, row.revision), stored };
}

export const FEEDBACK_RULES_SQL = RULES_SQL;

async function bump(tx: EntityManager): Promise<number> {
  // a CTE: TypeORM answers a bare UPDATE with [rows, count]
  const [row] = await tx.query<{ revision: number }[]>(
    `WITH u AS (UPDATE feedback_rules_revision SET revision = revision + 1 RETURNING revision) SELECT revision::int AS revision FROM u`,
  );
  return row.revision;
}
