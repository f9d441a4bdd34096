import { useState } from "hono/jsx";
import { ErrorBox } from "../components/error-box";
import { failureOf, type Session, signIn, storeToken } from "../session";

/** Sign in with any key (or the admin token): it is checked against the API before it is kept. */
export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [status, setStatus] = useState<{ code?: string; message: string } | "checking" | null>(
    null,
  );
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const token = (form.elements.namedItem("token") as HTMLInputElement).value.trim();
    const remember = (form.elements.namedItem("remember") as HTMLInputElement).checked;
    setStatus("checking");
    try {
      const session = await signIn(token);
      storeToken(token, remember);
      onSignedIn(session);
    } catch (err) {
      setStatus(failureOf(err));
    }
  };
  return (
    <form class="card narrow" onSubmit={submit}>
      <h1>Sign in</h1>
      <p class="muted">
        Use an API key, or the admin token (db-data/.control-plane/admin-token). The console shows
        what the key may do.
      </p>
      <label for="token">API key or admin token</label>
      <input
        id="token"
        name="token"
        type="password"
        autocomplete="current-password"
        required
        autofocus
      />
      <label class="inline">
        <input id="remember" name="remember" type="checkbox" /> Remember on this device
      </label>
      <button type="submit">Sign in</button>
      <div aria-live="polite">
        {status === "checking" ? "Checking…" : status ? <ErrorBox error={status} /> : null}
      </div>
    </form>
  );
}
