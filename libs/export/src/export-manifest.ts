import type { ExportFormat } from './export-formats';

/** What every export directory holds next to its files: enough to check and load them. */
export interface ExportManifest {
  version: number;
  kind: 'user' | 'item';
  dim: number;
  count: number;
  format: ExportFormat;
  created_at: string;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

export const MANIFEST_FILE = 'manifest.json';

/** Files of a finished export live in EXPORT_DIR/<job id>/; a job writes to <job id>.partial first. */
export const exportDirName = (jobId: string): string => `export-${jobId}`;
