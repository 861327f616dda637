/**
 * Outgoing webhooks: the endpoints the marketplace sends its events to (newest first), and a new
 * one with its signing secret, shown once. #/webhooks/:id is one endpoint's page (webhook.tsx).
 */
import { useState } from "preact/hooks";
import { api } from "../api";
import { href, type Route } from "../router";
import type { WebhookEndpoint, WebhookEndpointCreated } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Field } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { SecretOnce } from "../ui/secret";
import { Time } from "../ui/values";
import { WebhookPage } from "./webhook";
import { EndpointState, EventList, EventsField, eventsOf, trimmed, URL_HINT } from "./webhook-parts";

function Create({ onCreated }: { onCreated: (e: WebhookEndpointCreated) => void }) {
  // a new key after each endpoint: the next dialog starts with empty fields and nothing ticked
  const [n, setN] = useState(0);
  return (
    <ConfirmAction
      label="Add endpoint"
      title="Add a webhook endpoint?"
      onDone={() => setN((x) => x + 1)}
      fields={
        <div key={n}>
          <Field label="URL" name="url" type="url" required maxLength={2000} autoComplete="off" hint={URL_HINT} />
          <Field label="Description (optional)" name="description" maxLength={500} autoComplete="off" />
          <EventsField initial={[]} />
        </div>
      }
      run={async (f, idempotencyKey) => {
        const description = trimmed(f, "description");
        const body = { url: trimmed(f, "url"), events: eventsOf(f), ...(description ? { description } : {}) };
        const created = await api<WebhookEndpointCreated>("POST", "/v1/admin/webhook-endpoints", body, {
          idempotencyKey,
        });
        onCreated(created);
        return `Endpoint added: events are sent to ${created.url} from now on. Copy its signing secret below.`;
      }}
    >
      <p>
        The marketplace POSTs each picked event to this URL at once, signed with a new secret (Standard Webhooks
        signatures), and retries a failed delivery with backoff. The secret is shown once, after this step.
      </p>
    </ConfirmAction>
  );
}

function WebhookList() {
  const list = usePaged<WebhookEndpoint>("/v1/admin/webhook-endpoints");
  const [created, setCreated] = useState<WebhookEndpointCreated | null>(null);
  return (
    <>
      <h1>Webhooks</h1>
      <p class="muted">
        Endpoints that receive the marketplace's events, newest first. An endpoint failing for 5 days is disabled
        automatically; open it to see its deliveries, fix the receiver and enable it again.
      </p>
      <div class="actions-row">
        <Create
          onCreated={(e) => {
            setCreated(e);
            list.reload();
          }}
        />
      </div>
      {created && (
        <SecretOnce
          title={`Signing secret of ${created.url}`}
          secret={created.secret}
          onDismiss={() => setCreated(null)}
        >
          <p>
            <a href={href("webhooks", created.id)}>Open the new endpoint</a> to see its deliveries (the secret is not
            shown there).
          </p>
        </SecretOnce>
      )}
      <PagedView
        list={list}
        what="webhook endpoints"
        empty={
          <p>
            No webhook endpoint yet: no event is sent anywhere. Add one with <strong>Add endpoint</strong> above to have
            a system of yours told about bookings, payments, reports and payouts.
          </p>
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Description</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Failing since</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <a href={href("webhooks", e.id)} class="url">
                      {e.url}
                    </a>
                  </td>
                  <td>{e.description ?? <span class="muted">—</span>}</td>
                  <td>
                    <EventList events={e.events} />
                  </td>
                  <td>
                    <EndpointState e={e} />
                  </td>
                  <td>{e.failingSince ? <Time ms={e.failingSince} /> : <span class="muted">not failing</span>}</td>
                  <td>
                    <Time ms={e.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedView>
    </>
  );
}

export function Webhooks({ route }: { route: Route }) {
  const id = route.parts[1];
  return id ? <WebhookPage id={id} key={id} /> : <WebhookList />;
}
