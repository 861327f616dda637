/**
 * The result of the last action, announced to screen readers and shown at the top of the page
 * while the admin stays on the screen it happened on (another page, or another user, clears it:
 * "Refunded 5 credits" above someone else's orders would be read as theirs).
 */
import { useEffect, useState } from "preact/hooks";

type Kind = "success" | "error";
interface Message {
  text: string;
  kind: Kind;
  at: number;
  /** The hash path (without its query) the action was taken on. */
  screen: string;
}
const screenOf = () => location.hash.split("?", 1)[0] ?? "";
const subscribers = new Set<(m: Message | null) => void>();

export function flash(text: string, kind: Kind = "success") {
  const m = { text, kind, at: Date.now(), screen: screenOf() };
  for (const s of subscribers) s(m);
}

export function Flash() {
  const [m, setM] = useState<Message | null>(null);
  useEffect(() => {
    subscribers.add(setM);
    const left = () => setM((m) => (m && m.screen !== screenOf() ? null : m));
    addEventListener("hashchange", left);
    return () => {
      subscribers.delete(setM);
      removeEventListener("hashchange", left);
    };
  }, []);
  // one region that is always present, so assistive technology announces each new message
  return (
    <div class="flash-region" role="status" aria-live="polite">
      {m && (
        <p class={`flash flash-${m.kind}`} key={m.at}>
          {m.text}
          <button type="button" class="link" onClick={() => setM(null)} aria-label="Dismiss message">
            ×
          </button>
        </p>
      )}
    </div>
  );
}
