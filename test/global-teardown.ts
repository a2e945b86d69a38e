import { rm } from 'node:fs/promises';
import { dropDatabase } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const { TEST_DATABASE_URL, TEST_EXPORT_DIR } = await import('./test-env');
  await dropDatabase(TEST_DATABASE_URL);
  await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
}
