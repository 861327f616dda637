/** What the webhook pages share: the events picker of their dialogs, the events and state of an endpoint. */
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { type WebhookEndpoint, webhookEventTypes } from "../types";
import { Badge, Time } from "../ui/values";

export const URL_HINT = "An https:// address (http://localhost or 127.0.0.1 only in development).";

/** The events checkboxes of a dialog: every type, or some of them. Re-key it to start from `initial` again. */
export function EventsField({ initial }: { initial: readonly string[] }) {
  const [all, setAll] = useState(initial.includes("*"));
  return (
    <fieldset class="events">
      <legend>Events to send</legend>
      <label class="check">
        <input type="checkbox" name="all" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
        <span>
          <strong>All events</strong>, including types added later
        </span>
      </label>
      <div class="checks">
        {webhookEventTypes.map((t) => (
          <label class="check" key={t}>
            <input type="checkbox" name="events" value={t} defaultChecked={initial.includes(t)} disabled={all} />
            <code class="word">{t}</code>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The events ticked in an EventsField: `["*"]`, or the types; none is refused before anything is sent. */
export function eventsOf(f: FormData): string[] {
  if (f.get("all")) return ["*"];
  const events = f.getAll("events").map(String);
  if (events.length > 0) return events;
  throw new ApiError({
    status: 400,
    code: "validation_failed",
    title: "No event picked",
    detail: "Tick at least one event type, or All events",
    requestId: null,
  });
}

export function EventList({ events }: { events: readonly string[] }) {
  if (events.includes("*")) return <span>All events</span>;
  return (
    <ul class="inline-list">
      {events.map((t) => (
        <li key={t}>
          <code class="word">{t}</code>
        </li>
      ))}
    </ul>
  );
}

/** Enabled, or disabled (and since when): a disabled endpoint is sent nothing. */
export function EndpointState({ e }: { e: WebhookEndpoint }) {
  if (e.enabled) return <Badge value="enabled" />;
  return (
    <>
      <Badge value="disabled" />
      {e.disabledAt && (
        <>
          {" "}
          since <Time ms={e.disabledAt} />
        </>
      )}
    </>
  );
}

export const trimmed = (f: FormData, name: string) => String(f.get(name) ?? "").trim();
