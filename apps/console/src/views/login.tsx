import { useState } from 'preact/hooks';
import { Identity, logIn } from '../session';

/** The only thing shown without a key. */
export function Login({ onLogin }: { onLogin: (identity: Identity) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await logIn(key.trim()));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card login" onSubmit={(e) => void submit(e)}>
      <label for="api-key">API key</label>
      <input
        id="api-key"
        name="api-key"
        type="password"
        autocomplete="off"
        required
        value={key}
        onInput={(e) => setKey((e.target as HTMLInputElement).value)}
      />
      <p class="muted">
        Kept in this tab until the browser session ends; sent only in the Authorization header. The console shows what
        the key&apos;s scopes allow.
      </p>
      <button type="submit" class="primary" disabled={busy || !key.trim()}>
        Log in
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
