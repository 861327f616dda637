/**
 * Hash routes (`/admin/#/users/u_1`): the Worker serves one static page and never needs to know
 * the page's routes, and a reload or a shared link lands on the same screen.
 */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Path segments after `#/`, e.g. ["users", "u_1"]. */
  parts: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path = "", qs = ""] = raw.split("?", 2);
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** The href of a page: `href("users", id)`, with an optional query. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const segs = parts.filter((p): p is string => typeof p === "string").map(encodeURIComponent);
  const q = parts.find((p): p is Record<string, string | undefined> => typeof p === "object");
  const qs = q ? new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => !!e[1])).toString() : "";
  return `#/${segs.join("/")}${qs ? `?${qs}` : ""}`;
}

export const navigate = (to: string) => {
  location.hash = to.replace(/^#/, "");
};
