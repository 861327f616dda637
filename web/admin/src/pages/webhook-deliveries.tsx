/**
 * An endpoint's delivery log (newest first): each event sent to it, how many attempts it took, what
 * the receiver last answered, when the next attempt is due; a delivery not yet delivered can be
 * tried once more now (not while the endpoint is disabled: the API answers 409).
 */
import { api } from "../api";
import type { WebhookDelivery, WebhookEndpoint } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { type Paged, PagedView } from "../ui/paged";
import { Badge, Id, Time } from "../ui/values";

const attemptsText = (n: number) => (n === 1 ? "1 attempt" : `${n} attempts`);

function Retry({ d, onDone }: { d: WebhookDelivery; onDone: () => void }) {
  return (
    <ConfirmAction
      label="Retry"
      title={`Retry this ${d.eventType} delivery now?`}
      onDone={onDone}
      run={async (_f, idempotencyKey) => {
        const r = await api<WebhookDelivery>(
          "POST",
          `/v1/admin/webhook-deliveries/${encodeURIComponent(d.id)}/retry`,
          undefined,
          { idempotencyKey },
        );
        return `Retry of the ${d.eventType} delivery started: it is ${r.status} after ${attemptsText(r.attempts)}. Reload the log to follow it.`;
      }}
    >
      <p>
        One more attempt is made now, with the same event id (its <code class="word">webhook-id</code> header, by which
        receivers drop repeats) and the same payload. It has had {attemptsText(d.attempts)} so far.
        {d.status === "failed"
          ? " A failed delivery is tried this once; it is not put back on the retry schedule."
          : ""}
      </p>
    </ConfirmAction>
  );
}

function LastAnswer({ d }: { d: WebhookDelivery }) {
  if (!d.lastError && !d.lastResponseBody) return <span class="muted">—</span>;
  return (
    <>
      {d.lastError && <p class="pre-line">{d.lastError}</p>}
      {d.lastResponseBody && (
        <details>
          <summary>Response body</summary>
          <pre class="body">{d.lastResponseBody}</pre>
        </details>
      )}
    </>
  );
}

export function Deliveries({
  list,
  endpoint,
  onDone,
}: {
  list: Paged<WebhookDelivery>;
  endpoint: WebhookEndpoint;
  onDone: () => void;
}) {
  return (
    <PagedView
      list={list}
      what="deliveries"
      empty={
        <p>
          No delivery yet. One appears here for each event of the picked types
          {endpoint.enabled ? ", as it happens" : " once the endpoint is enabled again"}.
        </p>
      }
    >
      {(items) => (
        <table>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col" class="num">
                Last status code
              </th>
              <th scope="col">Last error and answer</th>
              <th scope="col">Next attempt</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>
                  <Time ms={d.createdAt} />
                </td>
                <td>
                  <code class="word">{d.eventType}</code>
                  <br />
                  <Id id={d.eventId} />
                </td>
                <td>
                  <Badge value={d.status} />
                  {d.deliveredAt && (
                    <>
                      <br />
                      <Time ms={d.deliveredAt} />
                    </>
                  )}
                </td>
                <td class="num">{d.attempts}</td>
                <td class="num">{d.lastStatusCode ?? <span class="muted">—</span>}</td>
                <td>
                  <LastAnswer d={d} />
                </td>
                <td>
                  {d.nextAttemptAt ? (
                    <Time ms={d.nextAttemptAt} />
                  ) : (
                    <span class="muted">{d.status === "failed" ? "none: retries used up" : "—"}</span>
                  )}
                </td>
                <td class="actions">
                  {d.status === "delivered" ? (
                    <span class="muted">nothing to do</span>
                  ) : endpoint.enabled ? (
                    <Retry d={d} onDone={onDone} />
                  ) : (
                    <span class="muted">enable the endpoint to retry</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedView>
  );
}
