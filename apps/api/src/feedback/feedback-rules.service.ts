import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { EnvVars } from '@app/config';
import { FeedbackTypeRepository } from '@app/database';
import { feedbackTypesChangedChannel } from '@app/embedding-store';
import { FeedbackFileError, FeedbackRules, FeedbackTypeRule, parseRulesFile, sameRule } from '@app/feedback';
import { REDIS, RedisClient, subscriberOf } from '@app/redis';

/** A process that missed a change message reads the rules again within this. */
const RELOAD_MS = 30_000;

/**
 * The event types' rules this process applies, held in memory: reading an event's meaning costs a
 * map lookup, never Postgres. Reloaded when another process announces a change (Redis pub/sub) and
 * every 30 s in any case. At start, a FEEDBACK_TYPES_FILE declares the types it lists that have no
 * rule yet; a type declared already (by an earlier start, or changed by an admin since) keeps its rule.
 */
@Injectable()
export class FeedbackRulesService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeedbackRulesService.name);
  private rules: FeedbackRules | null = null;
  private loading: Promise<FeedbackRules> | null = null;
  /** A file's rules not yet declared (Postgres was down at start): tried again on every reload. */
  private unseeded: FeedbackTypeRule[] | null = null;
  private subscriber: RedisClient | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repository: FeedbackTypeRepository,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly env: EnvVars,
  ) {}

  get strict(): boolean {
    return this.env.FEEDBACK_STRICT === 'true';
  }

  async onModuleInit(): Promise<void> {
    // a file that cannot be used stops the start, naming its problem, as a bad variable does
    if (this.env.FEEDBACK_TYPES_FILE) this.unseeded = await readRulesFile(this.env.FEEDBACK_TYPES_FILE);
    await this.reload().catch((err) => this.logger.warn(`event type rules not loaded: ${(err as Error).message}`));
    // a dedicated connection: a subscribed client can do nothing else
    this.subscriber = subscriberOf(this.redis);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', () => void this.reload().catch(() => undefined));
    await this.subscriber.subscribe(feedbackTypesChangedChannel()).catch(() => undefined);
    this.timer = setInterval(() => void this.reload().catch(() => undefined), RELOAD_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  /** The rules in memory; read first if there are none yet (throws while Postgres is unreachable). */
  current(): Promise<FeedbackRules> {
    return this.rules ? Promise.resolve(this.rules) : this.reload();
  }

  reload(): Promise<FeedbackRules> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /** Declares or replaces a type's rule; every process applies it once told (this one before answering). */
  async set(rule: FeedbackTypeRule): Promise<FeedbackRules> {
    await this.repository.set(rule);
    return this.changed();
  }

  async remove(type: string): Promise<boolean> {
    const removed = await this.repository.remove(type);
    if (removed) await this.changed();
    return removed;
  }

  private async changed(): Promise<FeedbackRules> {
    await this.redis.publish(feedbackTypesChangedChannel(), '1').catch(() => undefined);
    // a load in flight may have read before the change: wait for it, then read again
    await this.loading?.catch(() => undefined);
    return this.reload();
  }

  private async load(): Promise<FeedbackRules> {
    if (this.unseeded) await this.seed(this.unseeded);
    this.rules = await this.repository.rules();
    return this.rules;
  }

  private async seed(rules: FeedbackTypeRule[]): Promise<void> {
    const added = new Set(await this.repository.addMissing(rules));
    this.unseeded = null;
    const stored = await this.repository.rules();
    const kept = rules.filter((r) => !added.has(r.type) && !sameRule(r, stored.ruleOf(r.type) ?? r));
    this.logger.log(`FEEDBACK_TYPES_FILE declared ${added.size} of its ${rules.length} event types`);
    if (kept.length)
      this.logger.warn(
        `FEEDBACK_TYPES_FILE: ${kept.map((r) => `"${r.type}"`).join(', ')} keep their stored rules, which differ from the file's (setFeedbackType changes them)`,
      );
  }
}

async function readRulesFile(path: string): Promise<FeedbackTypeRule[]> {
  try {
    return parseRulesFile(await readFile(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof FeedbackFileError ? err.message : `cannot be read (${(err as Error).message})`;
    throw new Error(`FEEDBACK_TYPES_FILE ${path}: ${reason}`);
  }
}
