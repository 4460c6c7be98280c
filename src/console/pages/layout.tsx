/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { formatMinor } from "../../billing/money.ts";
import { CSRF_FIELD, IDEMPOTENCY_FIELD, newFormKey } from "../forms.ts";

export interface PageContext {
  /** The session's CSRF token; absent on the sign-in page. */
  csrfToken?: string;
  /** The service's clock (the test clock's time when it is on). */
  now: string;
  testClock: boolean;
}

const nav = [
  ["overview", "/console", "Overview"],
  ["platforms", "/console/platforms", "Platforms"],
  ["invoices", "/console/invoices", "Invoices"],
] as const;

/** The hidden fields of a console form: the session's CSRF token and a fresh idempotency key. */
export const FormGuard = ({ page }: { page: PageContext }) => (
  <>
    <input type="hidden" name={CSRF_FIELD} value={page.csrfToken ?? ""} />
    <input type="hidden" name={IDEMPOTENCY_FIELD} value={newFormKey()} />
  </>
);

export const Money = ({ amount, currency }: { amount: number; currency: string }) => (
  <>{formatMinor(amount, currency)}</>
);

export const Status = ({ value }: { value: string | null }) =>
  value ? (
    <span class={`status ${value}`}>{value.replace("_", " ")}</span>
  ) : (
    <span class="muted">none</span>
  );

export const FieldError = ({ id, message }: { id: string; message: string | undefined }) =>
  message ? (
    <p class="field-error" id={id} role="alert">
      {message}
    </p>
  ) : null;

export const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "");
export const instant = (iso: string | null) =>
  iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "";

export interface ChartData {
  /** Unix seconds (time axis) or indexes. */
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  unit?: string;
  xLabel?: string;
}

/**
 * A chart: its points as JSON in the page (the console's script draws them with uPlot, tests
 * read them back) and, for readers without script, the caption.
 */
export const Chart = ({
  name,
  caption,
  data,
}: {
  name: string;
  caption: string;
  data: ChartData;
}) => (
  <figure data-chart={name} aria-label={caption}>
    <div class="chart" />
    <figcaption>{caption}</figcaption>
    <script
      type="application/json"
      dangerouslySetInnerHTML={{ __html: JSON.stringify(data).replace(/</g, "\\u003c") }}
    />
  </figure>
);

export const Layout = ({
  title,
  active,
  page,
  children,
}: {
  title: string;
  active?: (typeof nav)[number][0];
  page: PageContext;
  children: Child;
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · NNO Billing console`}</title>
      <link rel="stylesheet" href="/console/assets/uplot.css" />
      <link rel="stylesheet" href="/console/assets/console.css" />
      <script src="/console/assets/uplot.js" defer />
      <script src="/console/assets/console.js" defer />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">NNO Billing</span>
        {page.csrfToken ? (
          <>
            <nav aria-label="Console">
              {nav.map(([key, href, label]) => (
                <a href={href} aria-current={key === active ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
            <span class="clock" title="The service's clock">
              {page.testClock ? "test clock: " : ""}
              {instant(page.now)}
            </span>
            <form method="post" action="/console/sign-out">
              <FormGuard page={page} />
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : null}
      </header>
      <main id="main">{children}</main>
    </body>
  </html>
);

export const ErrorPage = ({
  page,
  status,
  message,
}: {
  page: PageContext;
  status: number;
  message: string;
}) => (
  <Layout title={`Error ${status}`} page={page}>
    <h1>{status === 404 ? "Not found" : status === 403 ? "Refused" : "Something went wrong"}</h1>
    <p class="error" role="alert">
      {message}
    </p>
    <p>
      <a href="/console">Back to the overview</a>
    </p>
  </Layout>
);
