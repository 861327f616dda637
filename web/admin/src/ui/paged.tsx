/**
 * A cursor-paged list of the API (`{ items, nextCursor }`): the first page, then the next ones by
 * the API's own cursors, with a way back (the cursors seen are kept). Loading, empty and error
 * states are part of it, so every list of the page behaves the same.
 */
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { get, withQuery } from "../api";
import { Empty, ErrorState, Loading } from "./states";

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | undefined | null>;

export interface Paged<T> {
  items: T[] | null;
  error: unknown;
  loading: boolean;
  pageNumber: number;
  hasNext: boolean;
  next(): void;
  previous(): void;
  reload(): void;
}

/** `query` is part of the list's identity: a new filter starts again at page 1. */
export function usePaged<T>(path: string | null, query: Query = {}, limit = 20): Paged<T> {
  const key = path === null ? "" : withQuery(path, { ...query, limit });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<PageOf<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => setCursors([null]), [key]);
  const cursor = cursors[cursors.length - 1] ?? null;
  useEffect(() => {
    if (!key) return;
    let live = true;
    setLoading(true);
    setError(null);
    get<PageOf<T>>(withQuery(key, { cursor }))
      .then((d) => live && setData(d))
      .catch((e) => {
        if (!live) return;
        setError(e);
        setData(null);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [key, cursor, tick]);
  return {
    items: data?.items ?? null,
    error,
    loading,
    pageNumber: cursors.length,
    hasNext: !!data?.nextCursor,
    next: useCallback(() => data?.nextCursor && setCursors((c) => [...c, data.nextCursor]), [data]),
    previous: useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []),
    reload: useCallback(() => setTick((t) => t + 1), []),
  };
}

interface PagedViewProps<T> {
  list: Paged<T>;
  /** What the list holds, for "Loading sessions…" and the pager's label. */
  what: string;
  /** Shown when the first page is empty: say what that means and what to do. */
  empty: ComponentChildren;
  children: (items: T[]) => ComponentChildren;
}

export function PagedView<T>({ list, what, empty, children }: PagedViewProps<T>) {
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (list.items === null) return <Loading what={what} />;
  if (list.items.length === 0 && list.pageNumber === 1) return <Empty>{empty}</Empty>;
  return (
    <div class="paged" aria-busy={list.loading}>
      {children(list.items)}
      <nav class="pager" aria-label={`Pages of ${what}`}>
        <button type="button" onClick={list.previous} disabled={list.pageNumber === 1 || list.loading}>
          ← Previous
        </button>
        <span>Page {list.pageNumber}</span>
        <button type="button" onClick={list.next} disabled={!list.hasNext || list.loading}>
          Next →
        </button>
      </nav>
    </div>
  );
}
