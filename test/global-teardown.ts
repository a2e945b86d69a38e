import { dropDatabase } from './global-setup';
import { TEST_DATABASE_URL } from './test-env';

export default async function globalTeardown(): Promise<void> {
  await dropDatabase(TEST_DATABASE_URL);
}
