import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/env.ts";
import { type ConsoleSession, findConsoleSession } from "../services/console/sessions.ts";

export interface ConsoleEnv {
  Variables: AppEnv["Variables"] & { consoleSession: ConsoleSession };
}

export const SESSION_COOKIE = "nno_console_session";
export const CONSOLE_PATH = "/console";

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), scoped to the console's path, and Secure everywhere but in development (plain-HTTP
 * `npm start` on a laptop). It lives as long as the session (the server ends it sooner on
 * sign-out).
 */
export const setSessionCookie = (c: Context, sessionId: string) => {
  const deps = (c as Context<AppEnv>).get("deps");
  setCookie(c, SESSION_COOKIE, sessionId, {
    httpOnly: true,
    sameSite: "Strict",
    secure: deps.config.env !== "development",
    path: CONSOLE_PATH,
    // Relative, not `Expires`: the service's clock may be a test clock far from the browser's.
    maxAge: deps.config.consoleSessionTtlSeconds,
  });
};

export const clearSessionCookie = (c: Context) =>
  deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH });

/**
 * Every console page but sign-in needs a live session; without one, the browser is sent to the
 * sign-in page (303), and nothing else runs.
 */
export const requireConsoleSession = createMiddleware<ConsoleEnv>(async (c, next) => {
  const sessionId = getCookie(c, SESSION_COOKIE);
  const session = sessionId
    ? await findConsoleSession({ ctx: c.get("deps"), input: { sessionId } })
    : undefined;
  if (!session) {
    if (sessionId) clearSessionCookie(c);
    return c.redirect(`${CONSOLE_PATH}/sign-in`, 303);
  }
  c.set("consoleSession", session);
  c.set("principal", { kind: "operator" });
  await next();
});
