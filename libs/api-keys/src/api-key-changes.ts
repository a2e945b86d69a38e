/** Published after a key is created or revoked: every API process reloads its key cache. */
export const API_KEYS_CHANGED_CHANNEL = 'recoder:api-keys-changed';
