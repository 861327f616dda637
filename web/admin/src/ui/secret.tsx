/**
 * A secret the API shows once (a webhook endpoint's signing secret, at creation and rotation): the
 * value, a way to copy it, and a plain warning that it will not be shown again. It takes the focus
 * when it appears, so a keyboard or screen-reader user lands on it after the dialog closes.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function SecretOnce({
  title,
  secret,
  children,
  onDismiss,
}: {
  title: string;
  secret: string;
  children?: ComponentChildren;
  onDismiss: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState("");
  useEffect(() => heading.current?.focus(), [secret]);
  const copy = () => {
    input.current?.select();
    const fail = () => setCopied("Could not copy by itself: the secret is selected, press Ctrl+C (⌘C) to copy it.");
    if (!navigator.clipboard) return fail();
    navigator.clipboard.writeText(secret).then(() => setCopied("Copied to the clipboard."), fail);
  };
  return (
    <section class="secret" aria-labelledby="secret-title" data-testid="secret-once">
      <h2 id="secret-title" ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <p>
        <strong>Copy it now: it will not be shown again.</strong> Store it where the receiver verifies signatures. If it
        is lost, rotate the secret to get a new one.
      </p>
      <div class="secret-row">
        <input
          ref={input}
          readOnly
          value={secret}
          aria-label="Signing secret"
          spellcheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {copied}
      </p>
      {children}
      <button type="button" onClick={onDismiss}>
        I have stored it: hide the secret
      </button>
    </section>
  );
}
