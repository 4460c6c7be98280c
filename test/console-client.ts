import type { TestApp } from "./harness.ts";

/**
 * A signed-in console session over `app.request`, as a browser would hold it: the session
 * cookie from sign-in, and the CSRF token and form idempotency keys read from the pages.
 */
export interface ConsoleClient {
  cookie: string;
  get(path: string): Promise<Response>;
  /** Posts a form; `_csrf` is the session's unless given. */
  post(path: string, fields: Record<string, string>): Promise<Response>;
  csrfToken: string;
}

export const consoleCookieOf = (response: Response) => {
  const setCookie = response.headers.get("set-cookie") ?? "";
  const match = setCookie.match(/nno_console_session=([^;]*)/);
  if (!match?.[1]) throw new Error(`no session cookie in ${setCookie}`);
  return `nno_console_session=${match[1]}`;
};

/** The value of a hidden field in a page (the first of that name). */
export const hiddenField = (html: string, name: string) => {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match?.[1]) throw new Error(`no ${name} field in the page`);
  return match[1];
};

export const signInToConsole = async (t: TestApp, key = t.operatorKey) => {
  const response = await t.app.request("/console/sign-in", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key }).toString(),
  });
  return response;
};

export const consoleClient = async (t: TestApp): Promise<ConsoleClient> => {
  const signedIn = await signInToConsole(t);
  if (signedIn.status !== 303) throw new Error(`sign-in refused: ${signedIn.status}`);
  const cookie = consoleCookieOf(signedIn);
  const get = async (path: string) => t.app.request(path, { headers: { cookie } });
  const csrfToken = hiddenField(await (await get("/console")).text(), "_csrf");
  const post = async (path: string, fields: Record<string, string>) =>
    t.app.request(path, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrfToken, ...fields }).toString(),
    });
  return { cookie, get, post, csrfToken };
};
