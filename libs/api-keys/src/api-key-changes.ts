/** Published after a key is created or revoked: every API process reloads its key cache. */
export { apiKeysChangedChannel } from '@app/embedding-store/embedding-keys';
