/**
 * Every action of the back office goes through here: a button opens a dialog that says what will
 * happen (and asks for the reason or amount the action needs), the admin confirms, the result is
 * shown where they are (the flash) and the screen reloads. A money action keeps one
 * Idempotency-Key per dialog, so pressing Confirm again after a lost answer never does it twice.
 * A refusal (a 4xx) is a definite answer that nothing happened, and the API keeps it under its key
 * (a corrected amount under the same key would be a 422), so the next attempt gets a fresh key. A
 * 409 keeps the key: it may mean the first attempt is still running.
 */
import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { ApiError, newIdempotencyKey } from "../api";
import { flash } from "./flash";
import { problemText } from "./states";

interface ConfirmProps {
  /** The button's text, e.g. "Approve". */
  label: string;
  /** The dialog's title, e.g. "Approve Ada Lovelace?" */
  title: string;
  /** What will happen, in words. */
  children?: ComponentChildren;
  /** Extra inputs inside the dialog's form (named; their values reach `run`). */
  fields?: ComponentChildren;
  /** Performs the action; its answer is the success message. */
  run: (values: FormData, idempotencyKey: string) => Promise<string>;
  onDone?: () => void;
  danger?: boolean;
  disabled?: boolean;
}

export function ConfirmAction({ label, title, children, fields, run, onDone, danger, disabled }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ReturnType<typeof problemText> | null>(null);
  const key = useRef(newIdempotencyKey());
  const open = () => {
    setError(null);
    key.current = newIdempotencyKey();
    dialog.current?.showModal();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(null);
    try {
      const message = await run(new FormData(form), key.current);
      dialog.current?.close();
      form.reset();
      flash(message, "success");
      onDone?.();
    } catch (err) {
      const status = err instanceof ApiError ? err.problem.status : 0;
      if (status >= 400 && status < 500 && status !== 409) key.current = newIdempotencyKey();
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={danger ? "danger" : undefined} onClick={open} disabled={disabled}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={title}>
        <form onSubmit={submit} method="dialog">
          <h2>{title}</h2>
          {children}
          {fields}
          {error && (
            <div class="error" role="alert">
              <strong>{error.title}</strong>
              <p>{error.detail}</p>
              {error.requestId && <p class="muted">Request id: {error.requestId}</p>}
            </div>
          )}
          <div class="actions">
            <button type="button" onClick={() => dialog.current?.close()} disabled={busy}>
              Cancel
            </button>
            <button type="submit" class={danger ? "danger" : "primary"} disabled={busy}>
              {busy ? "Working…" : `Confirm: ${label}`}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
