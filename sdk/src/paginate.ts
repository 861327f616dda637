/**
 * `for await (const s of client.paginate("/v1/sessions", { params: { query: { status: "scheduled" } } }))`:
 * every item of a list route, page after page, following `nextCursor` until it is null. Only paths
 * whose GET answers `{ items, nextCursor }` are accepted, and the items are typed.
 */
import type { Client } from "openapi-fetch";
import { unwrap } from "./problem.ts";
import type { paths } from "./schema";

type Get<P extends keyof paths> = paths[P] extends { get: infer G } ? G : never;
type Body<P extends keyof paths> =
  Get<P> extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;

/** The paths of the list routes. */
export type PagedPath = {
  [P in keyof paths]: Body<P> extends { items: unknown[]; nextCursor: string | null } ? P : never;
}[keyof paths];

export type ItemOf<P extends PagedPath> = Body<P> extends { items: (infer T)[] } ? T : never;

type Params<P extends PagedPath> = Get<P> extends { parameters: infer X } ? X : never;
type QueryOf<P extends PagedPath> = Params<P> extends { query?: infer Q } ? Omit<NonNullable<Q>, "cursor"> : never;
type PathOf<P extends PagedPath> = Params<P> extends { path: infer X } ? X : never;

export type PageInit<P extends PagedPath> = {
  params?: { query?: QueryOf<P> } & ([PathOf<P>] extends [never | undefined] ? { path?: never } : { path: PathOf<P> });
};

export const paginate = (client: Client<paths>) =>
  async function* <P extends PagedPath>(path: P, init?: PageInit<P>): AsyncGenerator<ItemOf<P>> {
    let cursor: string | undefined;
    do {
      const query = { ...(init?.params?.query ?? {}), ...(cursor ? { cursor } : {}) };
      // the generic path cannot be narrowed to one operation's init type here; PageInit<P> checked it
      const page = unwrap(
        await client.GET(path as never, { params: { ...(init?.params ?? {}), query } } as never),
      ) as Body<P> & { items: ItemOf<P>[]; nextCursor: string | null };
      for (const item of page.items) yield item;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  };
