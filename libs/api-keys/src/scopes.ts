/**
 * What a key may do. Every GraphQL field declares one of these (apps/api/src/auth/requires-scope.decorator.ts):
 * ingest: record what users do; serve: recommendations and items; embeddings: vectors and maps;
 * catalogue: write items; admin: everything else (user histories, stats, anomalies, models, exports, keys).
 */
export const SCOPES = ['ingest', 'serve', 'embeddings', 'catalogue', 'admin'] as const;
export type ApiScope = (typeof SCOPES)[number];

export const isScope = (value: string): value is ApiScope => (SCOPES as readonly string[]).includes(value);

/** "serve,ingest" -> ['serve', 'ingest']; an unknown name throws, naming it and the known ones. Empty text: none. */
export function parseScopes(text: string): ApiScope[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !isScope(n));
  if (unknown.length)
    throw new Error(`unknown scope ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${SCOPES.join(', ')})`);
  return [...new Set(names as ApiScope[])];
}
