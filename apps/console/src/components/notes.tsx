import type { ComponentChildren } from 'preact';

export function ErrorNote({ error }: { error: Error | null }) {
  if (!error) return null;
  const code = (error as { code?: string }).code;
  return (
    <p class="error" role="alert">
      {code ? <strong>{code}: </strong> : null}
      {error.message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** What a view shows a key that lacks the scope it needs. */
export function NeedsScope({ scope, children }: { scope: string; children?: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      This needs a key with the <code>{scope}</code> scope. {children}
    </p>
  );
}

/** A table that may be wider than a phone: it scrolls by itself, and keyboard users can focus it to scroll. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
