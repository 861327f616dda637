/** Sign-in with an e-mail code: the address (input `email`), then the 6-digit code (input `code`). */
import { useState } from "preact/hooks";
import { requestCode, verifyCode } from "./api";
import { Field } from "./ui/field";
import { problemText } from "./ui/states";

export function SignIn() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ReturnType<typeof problemText> | null>(null);

  const act = (f: () => Promise<void>) => async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  const askCode = act(async () => {
    await requestCode(email);
    setSent(true);
  });
  const submitCode = act(async () => {
    const code = (document.getElementById("signin-code") as HTMLInputElement).value.trim();
    await verifyCode(email, code);
  });

  return (
    <main class="signin" id="main">
      <h1>tutorloop back office</h1>
      {!sent ? (
        <form onSubmit={askCode} aria-label="Sign in">
          <p>Sign in with your admin e-mail address. We will e-mail you a 6-digit code.</p>
          <Field
            label="E-mail address"
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Sending…" : "E-mail me a code"}
          </button>
        </form>
      ) : (
        <form onSubmit={submitCode} aria-label="Enter the code">
          <p>
            We sent a code to <strong>{email}</strong>. It is valid for 10 minutes.
          </p>
          <Field
            id="signin-code"
            label="6-digit code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            required
          />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
          <button type="button" class="link" onClick={() => setSent(false)}>
            Use another address
          </button>
        </form>
      )}
      {error && (
        <div class="error" role="alert">
          <strong>{error.title}</strong>
          <p>{error.detail}</p>
        </div>
      )}
    </main>
  );
}
