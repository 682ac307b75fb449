import { useState } from 'preact/hooks';
import { type Connection, connect, describeError } from '../api/connection.js';
import { Notice, PageTitle } from '../ui/components.js';

export function SignInPage({ onSignedIn }: { onSignedIn: (connection: Connection) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await connect(token.trim()));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <PageTitle>Sign in</PageTitle>
      <p>
        Paste an API key (<code>wagw_…</code>, capability <code>manage</code>) or a login token
        (JWT). It is kept in this tab only and sent to this server only.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">API key or login token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      <details>
        <summary>No key yet?</summary>
        <pre>
          <code>
            npm run cli -- api-keys create --org org_demo --name console --capabilities manage,send
          </code>
        </pre>
      </details>
    </main>
  );
}
