/** Every page of the back office: its hash path, its navigation title, its component. */
import type { ComponentType } from "preact";
import type { Route } from "../router";
import { AuditLog } from "./audit-log";
import { Dashboard } from "./dashboard";
import { Tutors } from "./tutors";
import { Users } from "./users";

export interface PageDef {
  path: string;
  title: string;
  /** Shown in the navigation (detail pages are reached from their lists). */
  nav: boolean;
  component: ComponentType<{ route: Route }>;
}

export const pages: PageDef[] = [
  { path: "", title: "Dashboard", nav: true, component: Dashboard },
  { path: "users", title: "Users", nav: true, component: Users },
  { path: "tutors", title: "Tutors", nav: true, component: Tutors },
  { path: "audit-log", title: "Audit log", nav: true, component: AuditLog },
];
