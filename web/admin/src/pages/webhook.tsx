/**
 * One webhook endpoint (#/webhooks/:id): its facts, the admin's actions on it (edit, disable or
 * enable, rotate the signing secret, delete) and its delivery log. After an action both are loaded
 * again; a rotated secret is shown once, here, until the admin hides it or leaves the page.
 */
import { useState } from "preact/hooks";
import { api } from "../api";
import { href, navigate } from "../router";
import type { RotatedSecret, WebhookDelivery, WebhookEndpoint } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Field, Section } from "../ui/field";
import { usePaged } from "../ui/paged";
import { SecretOnce } from "../ui/secret";
import { ErrorState, Loading } from "../ui/states";
import { useApi } from "../ui/use-api";
import { Id, Time } from "../ui/values";
import { Deliveries } from "./webhook-deliveries";
import { EndpointState, EventList, EventsField, eventsOf, trimmed, URL_HINT } from "./webhook-parts";

const enc = encodeURIComponent;
const pathOf = (id: string) => `/v1/admin/webhook-endpoints/${enc(id)}`;

function Facts({ e }: { e: WebhookEndpoint }) {
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <Id id={e.id} />
      </dd>
      <dt>URL</dt>
      <dd>
        <code>{e.url}</code>
      </dd>
      <dt>Description</dt>
      <dd>{e.description ?? <span class="muted">—</span>}</dd>
      <dt>Events</dt>
      <dd>
        <EventList events={e.events} />
      </dd>
      <dt>State</dt>
      <dd>
        <EndpointState e={e} />
      </dd>
      <dt>Failing since</dt>
      <dd>{e.failingSince ? <Time ms={e.failingSince} /> : <span class="muted">not failing</span>}</dd>
      <dt>Created</dt>
      <dd>
        <Time ms={e.createdAt} />
      </dd>
      <dt>Last changed</dt>
      <dd>
        <Time ms={e.updatedAt} />
      </dd>
    </dl>
  );
}

function Edit({ e, onDone }: { e: WebhookEndpoint; onDone: () => void }) {
  return (
    <ConfirmAction
      label="Edit"
      title="Change this endpoint?"
      onDone={onDone}
      fields={
        // keyed by the last change: after a save (or someone else's) the fields start from the endpoint again
        <div key={e.updatedAt}>
          <Field
            label="URL"
            name="url"
            type="url"
            required
            maxLength={2000}
            autoComplete="off"
            defaultValue={e.url}
            hint={URL_HINT}
          />
          <Field
            label="Description (optional)"
            name="description"
            maxLength={500}
            autoComplete="off"
            defaultValue={e.description ?? ""}
          />
          <EventsField initial={e.events} />
        </div>
      }
      run={async (f, idempotencyKey) => {
        const body = { url: trimmed(f, "url"), events: eventsOf(f), description: trimmed(f, "description") || null };
        const after = await api<WebhookEndpoint>("PATCH", pathOf(e.id), body, { idempotencyKey });
        return `Endpoint saved: the next events go to ${after.url}.`;
      }}
    >
      <p>The change applies to the next events; deliveries already made or pending keep their URL and payload.</p>
    </ConfirmAction>
  );
}

function Toggle({ e, onDone }: { e: WebhookEndpoint; onDone: () => void }) {
  const to = !e.enabled;
  return (
    <ConfirmAction
      label={to ? "Enable" : "Disable"}
      title={to ? "Enable this endpoint again?" : "Disable this endpoint?"}
      danger={!to}
      onDone={onDone}
      run={async (_f, idempotencyKey) => {
        await api<WebhookEndpoint>("PATCH", pathOf(e.id), { enabled: to }, { idempotencyKey });
        return to
          ? `Endpoint enabled: events are sent to ${e.url} again.`
          : `Endpoint disabled: nothing is sent to ${e.url} until it is enabled again.`;
      }}
    >
      {to ? (
        <p>
          Events are sent to it again from now on, and its failure streak starts afresh. Make sure the receiver answers
          2xx first; deliveries that failed meanwhile can be retried from the log below.
        </p>
      ) : (
        <p>
          No event is sent to it while it is disabled: its pending deliveries fail at their next attempt, and can be
          retried once it is enabled again.
        </p>
      )}
    </ConfirmAction>
  );
}

function Rotate({ e, onSecret }: { e: WebhookEndpoint; onSecret: (r: RotatedSecret) => void }) {
  return (
    <ConfirmAction
      label="Rotate secret"
      title="Rotate the signing secret?"
      run={async (_f, idempotencyKey) => {
        const r = await api<RotatedSecret>("POST", `${pathOf(e.id)}/rotate-secret`, undefined, {
          idempotencyKey,
        });
        onSecret(r);
        return "Secret rotated. Copy the new secret below: it is shown only once.";
      }}
    >
      <p>
        A new signing secret is made and shown once. The previous secret keeps signing alongside the new one for 24
        hours (each delivery carries both signatures), so the receiver can switch without missing an event; after that
        only the new secret signs.
      </p>
    </ConfirmAction>
  );
}

function Delete({ e }: { e: WebhookEndpoint }) {
  return (
    <ConfirmAction
      label="Delete"
      title="Delete this endpoint?"
      danger
      run={async (_f, idempotencyKey) => {
        await api("DELETE", pathOf(e.id), undefined, { idempotencyKey });
        // to the list before the message: the message belongs to the screen it is shown on
        navigate(href("webhooks"));
        return `Endpoint ${e.url} deleted: no more events are sent to it.`;
      }}
    >
      <p>
        No more events are sent to <code>{e.url}</code>, pending deliveries included, and its delivery log is deleted
        with it. This cannot be undone: to receive events there again, add a new endpoint (it gets a new secret). To
        stop deliveries for a while, disable it instead.
      </p>
    </ConfirmAction>
  );
}

export function WebhookPage({ id }: { id: string }) {
  const endpoint = useApi<WebhookEndpoint>(pathOf(id));
  const deliveries = usePaged<WebhookDelivery>(`${pathOf(id)}/deliveries`);
  const [rotated, setRotated] = useState<RotatedSecret | null>(null);
  const reload = () => {
    endpoint.reload();
    deliveries.reload();
  };
  const back = (
    <p>
      <a href={href("webhooks")}>← Webhooks</a>
    </p>
  );
  const e = endpoint.data;
  if (endpoint.error)
    return (
      <>
        {back}
        <h1>Webhook endpoint</h1>
        <ErrorState error={endpoint.error} retry={endpoint.reload} />
      </>
    );
  if (!e)
    return (
      <>
        {back}
        <h1>Webhook endpoint</h1>
        <Loading what="the webhook endpoint" />
      </>
    );
  return (
    <>
      {back}
      <h1>
        Webhook <span class="url">{e.url}</span>
      </h1>
      {!e.enabled && (
        <div class="notice" role="note">
          <strong>This endpoint is disabled: no event is sent to it.</strong>{" "}
          {e.failingSince ? (
            <>
              Its deliveries have been failing since <Time ms={e.failingSince} /> (an endpoint failing for 5 days is
              disabled automatically). Fix the receiver (see the last errors below), then enable it again.
            </>
          ) : (
            "Enable it again to have events sent to it."
          )}
        </div>
      )}
      <div class="actions-row">
        <Edit e={e} onDone={reload} />
        <Toggle e={e} onDone={reload} />
        <Rotate e={e} onSecret={setRotated} />
        <Delete e={e} />
        <a href={href("audit-log", { targetId: e.id })}>Audit trail</a>
      </div>
      {rotated && (
        <SecretOnce title="New signing secret" secret={rotated.secret} onDismiss={() => setRotated(null)}>
          <p>
            The previous secret keeps signing alongside this one until <Time ms={rotated.previousSecretExpiresAt} />:
            switch the receiver to the new one before then.
          </p>
        </SecretOnce>
      )}
      <Section title="Endpoint">
        <Facts e={e} />
      </Section>
      <Section
        title="Deliveries"
        actions={
          <button type="button" onClick={deliveries.reload} disabled={deliveries.loading}>
            Reload
          </button>
        }
      >
        <Deliveries list={deliveries} endpoint={e} onDone={reload} />
      </Section>
    </>
  );
}
