/**
 * Users: find one by e-mail address, or list them by context (newest first). #/users/:id is the
 * user's own page: its layout and profile are here, its ledger, adjustment and orders sections in
 * user.tsx. The hash's query keeps the search, so a reload or a shared link shows the same list.
 */
import { href, navigate, type Route } from "../router";
import { type LedgerEntry, type Order, type User, type UserDetail, userContexts } from "../types";
import { Field, Section, Select } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { ErrorState, Loading } from "../ui/states";
import { useApi } from "../ui/use-api";
import { Badge, Credits, Id, Money, Time } from "../ui/values";
import { Adjust, Ledger, Orders } from "./user";

/**
 * The user object carries no currency for earnings: they are kept in the deployment's
 * PAYOUT_CURRENCY, whose documented default is usd (the dashboard makes the same assumption).
 */
const EARNINGS_CURRENCY = "usd";

type Context = (typeof userContexts)[number];

function UserList({ route }: { route: Route }) {
  const email = route.query.get("email")?.trim() ?? "";
  const raw = route.query.get("context") ?? "";
  const context = (userContexts as readonly string[]).includes(raw) ? (raw as Context) : "";
  // an e-mail address names one user: the context filter does not apply to it
  const list = usePaged<User>("/v1/admin/users", email ? { email } : { context });
  const find = (e: Event) => {
    e.preventDefault();
    const value = String(new FormData(e.currentTarget as HTMLFormElement).get("email") ?? "").trim();
    navigate(href("users", { email: value, context: value ? undefined : context }));
  };
  return (
    <>
      <h1>Users</h1>
      <form class="filters" onSubmit={find} aria-label="Find a user">
        <Field
          label="E-mail address"
          name="email"
          type="email"
          autoComplete="off"
          defaultValue={email}
          key={email}
          hint="The whole address; leave empty to list users by context."
        />
        <button type="submit" class="primary">
          Find
        </button>
        <Select
          label="Context"
          name="context"
          value={context}
          options={["", ...userContexts]}
          disabled={!!email}
          onChange={(e) => navigate(href("users", { context: e.currentTarget.value }))}
        />
        {email && (
          <p class="muted">
            Showing the user with this address. <a href={href("users", { context })}>Show all users</a>
          </p>
        )}
      </form>
      <PagedView
        list={list}
        what="users"
        empty={
          email ? (
            <p>
              Nobody has the address <strong>{email}</strong>. Check its spelling (the whole address is needed), or{" "}
              <a href={href("users")}>list all users</a>.
            </p>
          ) : (
            <p>No {context || ""} users yet. Users appear here once they sign in for the first time.</p>
          )
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Name</th>
                <th scope="col">Context</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <tr key={u.id}>
                  <td>
                    <a href={href("users", u.id)}>{u.email}</a>
                  </td>
                  <td>{u.name ?? <span class="muted">—</span>}</td>
                  <td>
                    <Badge value={u.context} />
                  </td>
                  <td>
                    <Time ms={u.createdAt} />
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

function Profile({ u }: { u: UserDetail }) {
  const t = u.tutorProfile;
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <Id id={u.id} />
      </dd>
      <dt>Name</dt>
      <dd>{u.name ?? <span class="muted">—</span>}</dd>
      <dt>Context</dt>
      <dd>
        <Badge value={u.context} />
      </dd>
      <dt>Created</dt>
      <dd>
        <Time ms={u.createdAt} />
      </dd>
      <dt>Student profile</dt>
      <dd>
        {u.studentProfile ? (
          <>
            {u.studentProfile.displayName} <Id id={u.studentProfile.id} />
          </>
        ) : (
          <span class="muted">none</span>
        )}
      </dd>
      <dt>Tutor profile</dt>
      <dd>
        {t ? (
          <>
            {t.displayName} <Id id={t.id} /> <Badge value={t.status} />, <Credits n={t.hourlyCreditsPrice} /> per hour
            {t.statusReason && <span class="muted"> — {t.statusReason}</span>}{" "}
            <a href={href("tutors", { status: t.status })}>See {t.status} tutors</a>
          </>
        ) : (
          <span class="muted">none</span>
        )}
      </dd>
      <dt>Credits balance</dt>
      <dd>
        <Credits n={u.balance} />
        {u.balance < 0 && (
          <span class="muted"> (in debt after a refund or chargeback: cannot book until they buy)</span>
        )}
      </dd>
      <dt>Earnings balance</dt>
      <dd>
        <Money cents={u.earningsBalanceCents} currency={EARNINGS_CURRENCY} />
      </dd>
      <dt>Pending payout</dt>
      <dd>
        {u.pendingPayoutCents > 0 ? (
          <>
            <Money cents={u.pendingPayoutCents} currency={EARNINGS_CURRENCY} />{" "}
            <span class="muted">(already debited from the earnings balance)</span>
          </>
        ) : (
          <span class="muted">none</span>
        )}
      </dd>
      <dt>Payout account</dt>
      <dd>
        {u.payoutAccount ? (
          <>
            <Id id={u.payoutAccount.accountId} />{" "}
            {u.payoutAccount.payoutsEnabled ? "payouts enabled" : "payouts not enabled"},{" "}
            {u.payoutAccount.detailsSubmitted ? "details submitted" : "details not submitted"}
          </>
        ) : (
          <span class="muted">none</span>
        )}
      </dd>
    </dl>
  );
}

function UserPage({ id }: { id: string }) {
  const base = `/v1/admin/users/${encodeURIComponent(id)}`;
  const profile = useApi<UserDetail>(base);
  const ledger = usePaged<LedgerEntry>(`${base}/ledger`);
  const orders = usePaged<Order>(`${base}/orders`);
  const reloadAll = () => {
    profile.reload();
    ledger.reload();
    orders.reload();
  };
  const u = profile.data;
  const back = (
    <p class="muted">
      <a href={href("users")}>← Users</a>
    </p>
  );
  // an unknown id (or a failed read) fails the three reads alike: say it once
  if (profile.error)
    return (
      <>
        {back}
        <h1>User</h1>
        <ErrorState error={profile.error} retry={reloadAll} />
      </>
    );
  return (
    <>
      {back}
      <h1>{u ? u.email : "User"}</h1>
      {u && (
        <p>
          <a href={href("audit-log", { targetId: u.id })}>Audit trail</a> of admin actions on this user
        </p>
      )}
      <Section title="Profile">{u ? <Profile u={u} /> : <Loading what="the user" />}</Section>
      <Section title="Credits ledger">
        <p class="muted">Newest first, in the order the lines were written.</p>
        <Ledger list={ledger} />
      </Section>
      <Section title="Adjust credits">{u ? <Adjust u={u} onDone={reloadAll} /> : <Loading what="the user" />}</Section>
      <Section title="Orders">
        <Orders list={orders} onDone={reloadAll} />
      </Section>
    </>
  );
}

export function Users({ route }: { route: Route }) {
  const id = route.parts[1];
  return id ? <UserPage id={id} key={id} /> : <UserList route={route} />;
}
