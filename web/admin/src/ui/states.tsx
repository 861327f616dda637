/** What a screen shows while loading, when empty, and when something went wrong (with what to do). */
import type { ComponentChildren } from "preact";
import { ApiError } from "../api";

export const Loading = ({ what }: { what: string }) => (
  <p class="loading" role="status">
    Loading {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <div class="empty">{children}</div>;

/** The advice for each problem code the page can meet: what the admin can do about it. */
const advice: Record<string, string> = {
  network: "The server could not be reached. Check your connection, then try again.",
  unauthorized: "Your sign-in has expired. Sign in again.",
  forbidden: "This account may not do this. Only admins can use the back office.",
  not_found: "It does not exist (or no longer does). Go back to the list and pick it again.",
  conflict: "Its state changed meanwhile, or this was already done. Reload to see where it stands.",
  validation_failed: "Some values are not accepted; correct them and try again.",
  insufficient_credits: "The balance does not cover this debit.",
  idempotency_conflict: "This action was already sent with other values. Reload the page and start it again.",
  rate_limited: "Too many requests. Wait a minute, then try again.",
  provider_unavailable:
    "A provider (Stripe, …) did not answer or is not configured. Nothing was charged; try again later.",
  policy_window_closed: "The policy no longer allows this at this time.",
  internal: "The server failed. Try again; if it keeps failing, give the request id to an engineer.",
};

export function problemText(err: unknown): { title: string; detail: string; requestId: string | null } {
  if (err instanceof ApiError) {
    const p = err.problem;
    // each part a sentence of its own: the API's details do not always end with a full stop
    const sentence = (t: string) => (/[.!?]$/.test(t) ? t : `${t}.`);
    const why = [p.detail, ...(p.errors ?? []).map((e) => `${e.path}: ${e.message}`)]
      .filter((t): t is string => !!t)
      .map(sentence)
      .join(" ");
    return {
      title: p.title,
      detail: [why, advice[p.code] ?? advice.internal].filter(Boolean).join(" "),
      requestId: p.requestId,
    };
  }
  return { title: "Something went wrong", detail: String((err as Error)?.message ?? err), requestId: null };
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const t = problemText(error);
  return (
    <div class="error" role="alert">
      <strong>{t.title}</strong>
      <p>{t.detail}</p>
      {t.requestId && (
        <p class="muted">
          Request id: <code>{t.requestId}</code>
        </p>
      )}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}
