/** The back office's shell: sign-in, the navigation, and the page of the current hash route. */
import type { ComponentType } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Me, onSessionChange, resume, signedInUser, signOut } from "./api";
import { pages } from "./pages";
import { href, type Route, useRoute } from "./router";
import { SignIn } from "./signin";
import { Flash } from "./ui/flash";
import { Loading } from "./ui/states";

function Shell({ me }: { me: Me }) {
  const route = useRoute();
  const section = route.parts[0] ?? "";
  const page = pages.find((p) => p.path === section) ?? pages[0];
  const Page = page?.component as ComponentType<{ route: Route }>;
  useEffect(() => {
    document.title = `${page?.title ?? "Back office"} · tutorloop back office`;
  }, [page]);
  return (
    <>
      {/* a button, not a link: a "#main" link would be taken for a route of the hash router */}
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <strong class="brand">tutorloop back office</strong>
        <nav aria-label="Sections">
          <ul>
            {pages
              .filter((p) => p.nav)
              .map((p) => (
                <li key={p.path}>
                  <a href={href(p.path)} aria-current={p === page ? "page" : undefined}>
                    {p.title}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div class="who">
          <span data-testid="admin-email">{me.email}</span>
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <Flash />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    const off = onSessionChange(setMe);
    resume().then(
      () => setMe(signedInUser()),
      () => setMe(null),
    );
    return off;
  }, []);
  if (me === undefined) return <Loading what="the back office" />;
  return me ? <Shell me={me} /> : <SignIn />;
}

const root = document.getElementById("app");
if (root) render(<App />, root);
