/** The result of the last action, announced to screen readers and shown at the top of the page. */
import { useEffect, useState } from "preact/hooks";

type Kind = "success" | "error";
interface Message {
  text: string;
  kind: Kind;
  at: number;
}
const subscribers = new Set<(m: Message | null) => void>();

export function flash(text: string, kind: Kind = "success") {
  const m = { text, kind, at: Date.now() };
  for (const s of subscribers) s(m);
}

export function Flash() {
  const [m, setM] = useState<Message | null>(null);
  useEffect(() => {
    subscribers.add(setM);
    return () => subscribers.delete(setM);
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
