import { dropDatabase } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const { TEST_DATABASE_URL } = await import('./test-env');
  await dropDatabase(TEST_DATABASE_URL);
}
