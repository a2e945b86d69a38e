/** Postgres advisory lock keys, one place so that no two uses share one (a shared key deadlocks a training). */
export const ADVISORY_LOCK = {
  /** The writers of item_popularity take turns (transaction lock). */
  popularity: 0x7265636f, // "reco"
  /** A training runs (session lock, held by one worker). */
  training: 0x74726169, // "trai"
  /** The API processes creating and dropping impressions' partitions take turns (transaction lock). */
  impressionPartitions: 0x696d7072, // "impr"
} as const;
