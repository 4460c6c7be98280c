/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { Hono } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, invalid } from "../errors.ts";
import type { AppEnv } from "../http/env.ts";
import { type ErrorBody, handleError } from "../http/error-handler.ts";
import { CreateCreditNoteBody } from "../routes/document-schemas.ts";
import { ApplyCreditBody } from "../routes/operator/apply-credit.ts";
import { OverrideBody } from "../routes/operator/override-subscription.ts";
import { CreateApiKeyBody } from "../routes/operator/platforms/create-api-key.ts";
import { StartTrialBody } from "../routes/operator/start-trial.ts";
import { ChangeTierBody } from "../routes/subscription/change-tier.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/api-keys.ts";
import { customerBalanceLedger } from "../services/console/balance-ledger.ts";
import { consoleOverview } from "../services/console/console-overview.ts";
import {
  exportInvoicesCsv,
  type InvoiceFilter,
  type InvoiceStatus,
  invoiceStatuses,
  searchInvoices,
} from "../services/console/invoice-search.ts";
import { searchPlatforms } from "../services/console/platform-directory.ts";
import { signInToConsole, signOutOfConsole } from "../services/console/sessions.ts";
import type { ServiceContext } from "../services/context.ts";
import {
  markInvoiceUncollectible,
  voidOpenInvoice,
} from "../services/corrections/invoice-corrections.ts";
import { createCreditNote } from "../services/credit-notes/create-credit-note.ts";
import { creditNotesOfInvoices } from "../services/credit-notes/list-credit-notes.ts";
import { applyCredit } from "../services/credits.ts";
import { customerOfPlatform } from "../services/customers.ts";
import { getEvent, listEvents } from "../services/events/queries.ts";
import { getInvoice, listInvoices } from "../services/invoicing.ts";
import { listPaymentMethodsOf } from "../services/payment-methods.ts";
import { getPlatform } from "../services/platforms.ts";
import type { Principal } from "../services/principal.ts";
import { cancelPlatformSubscription } from "../services/subscriptions/cancel.ts";
import { changeTier, previewTierChange } from "../services/subscriptions/change.ts";
import { overrideSubscription, startTrial } from "../services/subscriptions/operator.ts";
import { getPlatformSubscription } from "../services/subscriptions/queries.ts";
import { getCurrentUsage, getDailyUsage } from "../services/usage/index.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "../services/webhooks/endpoints.ts";
import { listDeliveryAttempts, sendTestPing } from "../services/webhooks/redeliver.ts";
import { createConsoleAssetRoutes } from "./assets.ts";
import { fieldErrors, numberField, parseWith, readForm, requireCsrf, submitOnce } from "./forms.ts";
import { ChangeTierPage } from "./pages/change-tier.tsx";
import { EventPage } from "./pages/events.tsx";
import { InvoicePage, invoicePath } from "./pages/invoice.tsx";
import { InvoicesPage } from "./pages/invoices.tsx";
import { ErrorPage, type PageContext } from "./pages/layout.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { type FormProblem, PlatformPage, type PlatformView } from "./pages/platform.tsx";
import { PlatformsPage } from "./pages/platforms.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import {
  CONSOLE_PATH,
  type ConsoleEnv,
  clearSessionCookie,
  requireConsoleSession,
  setSessionCookie,
} from "./session.ts";

type C = Context<ConsoleEnv>;

const pageOf = (c: C): PageContext => {
  const deps = c.get("deps");
  return {
    csrfToken: c.get("consoleSession")?.csrfToken,
    now: deps.clock.now().toISOString(),
    testClock: deps.testClock !== undefined,
  };
};

const html = (c: C, body: Child, status = 200) =>
  c.html(`<!doctype html>${body}`, status as ContentfulStatusCode);

/** A page's optional part: undefined when the service says it does not exist (404). */
const unlessMissing = <T,>(work: Promise<T>): Promise<T | null> =>
  work.catch((error) => {
    if (error instanceof AppError && error.code === "NOT_FOUND") return null;
    throw error;
  });

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * The operator acting as one platform, for the services whose objects belong to the caller
 * (webhook endpoints: the operator's own principal manages the operator's endpoints, not a
 * platform's). The console is signed in with the operator key, which acts on every platform.
 */
const actingAs = (platformId: string): Principal => ({
  kind: "platform",
  platformId,
  keyId: "console",
  scopes: ["platform"],
});

const OPERATOR: Principal = { kind: "operator" };

/** A platform's endpoints with their latest delivery attempts. */
const loadEndpoints = async (ctx: ServiceContext, platformId: string) => {
  const principal = actingAs(platformId);
  const endpoints = await listWebhookEndpoints({ ctx, principal, input: { limit: 16 } });
  return Promise.all(
    endpoints.data.map(async (endpoint) => ({
      endpoint,
      attempts: await listDeliveryAttempts({
        ctx,
        principal,
        input: { endpointId: endpoint.id, limit: 5 },
      }),
    })),
  );
};

/** The platform's usage this period and, when it has a period, its daily chart. */
const usageWithDaily = async (ctx: ServiceContext, platformId: string) => {
  const usage = await unlessMissing(getCurrentUsage({ ctx, input: { platformId } }));
  if (!usage) return { usage, daily: null };
  // The daily chart covers the current period, at most its last 31 days.
  const today = ctx.clock.now();
  const monthAgo = new Date(today.getTime() - 30 * 86_400_000);
  const periodStart = new Date(usage.periodStart);
  const from = utcDay(periodStart > monthAgo ? periodStart : monthAgo);
  const daily = await getDailyUsage({ ctx, input: { platformId, from, to: utcDay(today) } });
  return { usage, daily };
};

/**
 * A page of the platform's invoices with their credit notes, read only for the invoices that
 * have any (`amountCredited` counts every note, pending ones too): most pages have none.
 */
const invoicesWithNotes = async (ctx: ServiceContext, platformId: string, limit: number) => {
  const invoices = await listInvoices({ ctx, input: { platformId, limit } });
  const creditNotes = await creditNotesOfInvoices({
    ctx,
    input: { invoiceIds: invoices.data.filter((i) => i.amountCredited > 0).map((i) => i.id) },
  });
  return { invoices, creditNotes };
};

/** The platform's customer: its payment methods and its balance ledger. */
const customerWithMoney = async (
  ctx: ServiceContext,
  platformId: string,
  page: { limit: number },
) => {
  const customer = await customerOfPlatform({ ctx, input: { platformId } });
  const [paymentMethods, ledger] = await Promise.all([
    listPaymentMethodsOf({ ctx, input: { customer, page } }),
    customerBalanceLedger({ ctx, input: { customer, ...page } }),
  ]);
  return { paymentMethods, ledger };
};

/**
 * Everything a platform's page shows, read through the services the API routes use, all at
 * once: a read that needs another's result (the chart needs the period, credit notes need the
 * invoices) follows it in its own chain, and an unknown platform rejects with the 404.
 */
const loadPlatformView = async (
  ctx: ServiceContext,
  platformId: string,
  eventsCursor?: string | undefined,
): Promise<PlatformView> => {
  const page = { limit: 20 };
  const [
    platform,
    subscription,
    { usage, daily },
    { invoices, creditNotes },
    { paymentMethods, ledger },
    apiKeys,
    events,
    endpoints,
  ] = await Promise.all([
    getPlatform({ ctx, input: { platformId } }),
    unlessMissing(getPlatformSubscription({ ctx, input: { platformId } })),
    usageWithDaily(ctx, platformId),
    invoicesWithNotes(ctx, platformId, page.limit),
    customerWithMoney(ctx, platformId, page),
    listApiKeys({ ctx, input: { platformId } }),
    listEvents({
      ctx,
      principal: OPERATOR,
      input: { platformId, ...page, ...(eventsCursor ? { cursor: eventsCursor } : {}) },
    }),
    loadEndpoints(ctx, platformId),
  ]);
  return {
    platform,
    subscription,
    usage,
    daily,
    invoices,
    paymentMethods,
    ledger,
    apiKeys,
    plans: ctx.catalog.plans,
    creditNotes,
    events,
    endpoints,
  };
};

/**
 * The platform's page with a secret shown in this response only (a new API key, a webhook
 * endpoint's signing secret); a replay of the form goes to the page without it.
 */
const pageWithSecret = async (
  c: C,
  ctx: ServiceContext,
  platformId: string,
  secret: Pick<Parameters<typeof PlatformPage>[0], "newKey" | "newSecret">,
  status: ContentfulStatusCode,
) =>
  html(
    c,
    <PlatformPage page={pageOf(c)} view={await loadPlatformView(ctx, platformId)} {...secret} />,
    status,
  );

/** A service's refusal of a form's input (4xx) as the problem shown by the form; else rethrown. */
const refusalOf = (
  error: unknown,
  form: string,
): { problem: FormProblem; status: ContentfulStatusCode } => {
  if (!(error instanceof AppError) || error.status >= 500 || error.code === "FORBIDDEN")
    throw error;
  return {
    problem: { form, message: error.message, fields: fieldErrors(error) },
    status: error.status as ContentfulStatusCode,
  };
};

const platformPath = (platformId: string) =>
  `${CONSOLE_PATH}/platforms/${encodeURIComponent(platformId)}`;

/**
 * A platform form's POST: CSRF checked (middleware), run once per idempotency key through the
 * same service as the API, then back to the platform's page with a notice. A refused input
 * (4xx) shows the page again with the service's message next to the form's fields.
 */
const platformAction =
  (
    form: string,
    perform: (args: {
      c: C;
      ctx: ServiceContext;
      fields: Record<string, string>;
      platformId: string;
    }) => Promise<{
      notice: string;
      anchor: string;
      response?: (location: string) => Promise<Response>;
    }>,
  ) =>
  async (c: C) => {
    const ctx = c.get("deps");
    const platformId = c.req.param("platformId") as string;
    const fields = await readForm(c);
    // An unknown platform is the page's 404, not a form's problem.
    await getPlatform({ ctx, input: { platformId } });
    try {
      return await submitOnce(c, fields, async () => {
        const done = await perform({ c, ctx, fields, platformId });
        const location = `${platformPath(platformId)}?notice=${done.notice}#${done.anchor}`;
        return done.response ? { location, response: await done.response(location) } : { location };
      });
    } catch (error) {
      const { problem, status } = refusalOf(error, form);
      const view = await loadPlatformView(ctx, platformId);
      return html(c, <PlatformPage page={pageOf(c)} view={view} problem={problem} />, status);
    }
  };

const subscriptionIdOf = async (ctx: ServiceContext, platformId: string) =>
  (await getPlatformSubscription({ ctx, input: { platformId } })).id;

/** The invoice page: the invoice with its credit notes, read as the API reads them. */
const loadInvoiceView = async (ctx: ServiceContext, invoiceId: string) => {
  const invoice = await getInvoice({ ctx, principal: OPERATOR, input: { invoiceId } });
  const notes = await creditNotesOfInvoices({ ctx, input: { invoiceIds: [invoice.id] } });
  return { invoice, notes: notes.get(invoice.id) ?? [] };
};

/**
 * An invoice form's POST (void, mark uncollectible, credit note): as `platformAction`, back to
 * the invoice's page with a notice, or that page again with the service's refusal by the form.
 */
const invoiceAction =
  (
    form: string,
    perform: (args: {
      ctx: ServiceContext;
      fields: Record<string, string>;
      invoiceId: string;
    }) => Promise<string>,
  ) =>
  async (c: C) => {
    const ctx = c.get("deps");
    const fields = await readForm(c);
    // An unknown invoice is the page's 404, not a form's problem.
    const { invoice } = await loadInvoiceView(ctx, c.req.param("invoiceId") as string);
    try {
      return await submitOnce(c, fields, async () => {
        const notice = await perform({ ctx, fields, invoiceId: invoice.id });
        return { location: `${invoicePath(invoice.id)}?notice=${notice}` };
      });
    } catch (error) {
      const { problem, status } = refusalOf(error, form);
      const view = await loadInvoiceView(ctx, invoice.id);
      return html(c, <InvoicePage page={pageOf(c)} {...view} problem={problem} />, status);
    }
  };

/** Enabled event types from a form's comma-separated field. */
const eventList = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .slice(0, 100);

const invoiceFilterOf = (c: C): InvoiceFilter & { cursor?: string } => {
  const q = c.req.query();
  const status =
    q.status && (invoiceStatuses as readonly string[]).includes(q.status)
      ? (q.status as InvoiceStatus)
      : undefined;
  const text = (v: string | undefined, max: number) =>
    v?.trim() ? v.trim().slice(0, max) : undefined;
  return {
    status,
    platformId: text(q.platformId, 255),
    number: text(q.number, 40),
    from: text(q.from, 10),
    to: text(q.to, 10),
    ...(q.cursor ? { cursor: q.cursor.slice(0, 500) } : {}),
  };
};

/**
 * The operator console (DESIGN §15), mounted at `/console` by `app.ts`: server-rendered pages
 * over the same services as the API, a session made from the operator key, CSRF tokens and an
 * idempotency key on every form.
 */
export const createConsoleRoutes = () => {
  const app = new Hono<ConsoleEnv>();
  // The API's one error pipeline decides the status and logs; the console shows it as a page.
  app.onError(async (error, c) => {
    const response = handleError(error, c as unknown as Context<AppEnv>);
    const { error: body } = (await response.json()) as ErrorBody;
    return html(
      c,
      <ErrorPage page={pageOf(c)} status={response.status} message={body.message} />,
      response.status,
    );
  });

  app.route("/assets", createConsoleAssetRoutes());

  app.get("/sign-in", (c) => html(c, <SignInPage page={pageOf(c)} />));
  app.post("/sign-in", async (c) => {
    const deps = c.get("deps");
    const fields = await readForm(c);
    try {
      const { sessionId } = await signInToConsole({
        ctx: deps,
        input: { key: (fields.key ?? "").slice(0, 512), operatorKey: deps.operatorKey },
      });
      setSessionCookie(c, sessionId);
      return c.redirect(CONSOLE_PATH, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "UNAUTHORIZED") throw error;
      return html(c, <SignInPage page={pageOf(c)} error={error.message} />, 401);
    }
  });

  app.use("*", requireConsoleSession, requireCsrf);

  app.post("/sign-out", async (c) => {
    await signOutOfConsole({
      ctx: c.get("deps"),
      input: { idHash: c.get("consoleSession").idHash },
    });
    clearSessionCookie(c);
    return c.redirect(`${CONSOLE_PATH}/sign-in`, 303);
  });

  // Overview requests that arrive while one is being computed share it (request coalescing): ten
  // operators on the page cost one computation, and each sees figures at most one computation
  // old. Per console instance, keyed by the service context (the clock it reads).
  let computing: { ctx: ServiceContext; result: ReturnType<typeof consoleOverview> } | undefined;
  const overviewOf = (ctx: ServiceContext) => {
    if (computing?.ctx === ctx) return computing.result;
    const result = consoleOverview({ ctx });
    const entry = { ctx, result };
    computing = entry;
    const release = () => {
      if (computing === entry) computing = undefined;
    };
    result.then(release, release);
    return result;
  };

  app.get("/", async (c) => {
    const data = await overviewOf(c.get("deps"));
    return html(c, <OverviewPage page={pageOf(c)} data={data} />);
  });

  app.get("/platforms", async (c) => {
    const q = (c.req.query("q") ?? "").slice(0, 200);
    const cursor = c.req.query("cursor");
    const list = await searchPlatforms({
      ctx: c.get("deps"),
      input: { q, limit: 50, ...(cursor ? { cursor } : {}) },
    });
    return html(c, <PlatformsPage page={pageOf(c)} q={q} list={list} />);
  });

  app.get("/platforms/:platformId", async (c) => {
    const eventsCursor = c.req.query("eventsCursor")?.slice(0, 500);
    const view = await loadPlatformView(c.get("deps"), c.req.param("platformId"), eventsCursor);
    const notice = c.req.query("notice");
    return html(c, <PlatformPage page={pageOf(c)} view={view} notice={notice} />);
  });

  app.get("/platforms/:platformId/change-tier", async (c) => {
    const platformId = c.req.param("platformId");
    const ctx = c.get("deps");
    const { tier } = parseWith(ChangeTierBody, { tier: c.req.query("tier") });
    const preview = await previewTierChange({ ctx, input: { platformId, tier } });
    return html(c, <ChangeTierPage page={pageOf(c)} platformId={platformId} preview={preview} />);
  });

  app.post(
    "/platforms/:platformId/change-tier",
    platformAction("change-tier", async ({ ctx, fields, platformId }) => {
      const { tier } = parseWith(ChangeTierBody, { tier: fields.tier });
      await changeTier({ ctx, input: { platformId, tier } });
      return { notice: "tier-changed", anchor: "invoices" };
    }),
  );

  app.post(
    "/platforms/:platformId/cancel",
    platformAction("cancel", async ({ ctx, platformId }) => {
      await cancelPlatformSubscription({ ctx, input: { platformId } });
      return { notice: "canceled", anchor: "subscription" };
    }),
  );

  app.post(
    "/platforms/:platformId/trial",
    platformAction("trial", async ({ ctx, fields, platformId }) => {
      const { trialDays } = parseWith(StartTrialBody, { trialDays: numberField(fields.trialDays) });
      await startTrial({
        ctx,
        input: { subscriptionId: await subscriptionIdOf(ctx, platformId), trialDays },
      });
      return { notice: "trial-started", anchor: "subscription" };
    }),
  );

  app.post(
    "/platforms/:platformId/override",
    platformAction("override", async ({ ctx, fields, platformId }) => {
      const trialEnd = fields.trialEnd?.trim()
        ? Date.parse(`${fields.trialEnd.trim()}T00:00:00Z`) / 1000
        : undefined;
      const body = parseWith(OverrideBody, {
        ...(fields.planTier ? { planTier: fields.planTier } : {}),
        ...(trialEnd !== undefined ? { trialEnd } : {}),
      });
      await overrideSubscription({
        ctx,
        input: { subscriptionId: await subscriptionIdOf(ctx, platformId), ...body },
      });
      return { notice: "overridden", anchor: "subscription" };
    }),
  );

  app.post(
    "/platforms/:platformId/credits",
    platformAction("credit", async ({ c, ctx, fields, platformId }) => {
      const platform = await getPlatform({ ctx, input: { platformId } });
      const body = parseWith(ApplyCreditBody, {
        customerId: platform.customerId ?? "",
        amount: numberField(fields.amount),
        currency: fields.currency || undefined,
        description: fields.description ?? "",
      });
      await applyCredit({ ctx, principal: c.get("principal"), input: body });
      return { notice: "credit-applied", anchor: "balance" };
    }),
  );

  app.post(
    "/platforms/:platformId/api-keys",
    platformAction("api-key", async ({ c, ctx, fields, platformId }) => {
      const { scopes } = parseWith(CreateApiKeyBody, { scopes: [fields.scope || "platform"] });
      const key = await createApiKey({ ctx, input: { platformId, scopes } });
      // The secret is shown in this response only; a replay of the form goes to the page
      // without it.
      return {
        notice: "key-created",
        anchor: "api-keys",
        response: () =>
          pageWithSecret(c, ctx, platformId, { newKey: { id: key.id, key: key.key } }, 201),
      };
    }),
  );

  app.post(
    "/platforms/:platformId/api-keys/:keyId/revoke",
    platformAction("api-key", async ({ c, ctx, platformId }) => {
      await revokeApiKey({ ctx, input: { platformId, keyId: c.req.param("keyId") as string } });
      return { notice: "key-revoked", anchor: "api-keys" };
    }),
  );

  app.post(
    "/platforms/:platformId/webhooks",
    platformAction("webhook", async ({ c, ctx, fields, platformId }) => {
      const enabledEvents = eventList(fields.enabledEvents);
      if (enabledEvents.length === 0) {
        throw invalid("name at least one event type, or * for all", [
          { path: ["enabledEvents"], message: "at least one event type, or *" },
        ]);
      }
      const url = (fields.url ?? "").trim();
      if (url === "" || url.length > 2048) {
        throw invalid("url: 1 to 2048 characters", [
          { path: ["url"], message: "1 to 2048 characters" },
        ]);
      }
      const description = fields.description?.trim().slice(0, 500) || undefined;
      const created = await createWebhookEndpoint({
        ctx,
        principal: actingAs(platformId),
        input: { url, enabledEvents, description },
      });
      return {
        notice: "webhook-created",
        anchor: "webhooks",
        response: () =>
          pageWithSecret(
            c,
            ctx,
            platformId,
            { newSecret: { endpointId: created.id, secret: created.secret } },
            201,
          ),
      };
    }),
  );

  const endpointAction = (
    notice: string,
    act: (args: { ctx: ServiceContext; principal: Principal; id: string }) => Promise<unknown>,
  ) =>
    platformAction("webhook-action", async ({ c, ctx, platformId }) => {
      const id = c.req.param("endpointId") as string;
      await act({ ctx, principal: actingAs(platformId), id });
      return { notice, anchor: "webhooks" };
    });

  app.post(
    "/platforms/:platformId/webhooks/:endpointId/disable",
    endpointAction("webhook-disabled", ({ ctx, principal, id }) =>
      updateWebhookEndpoint({ ctx, principal, input: { id, disabled: true } }),
    ),
  );
  app.post(
    "/platforms/:platformId/webhooks/:endpointId/enable",
    endpointAction("webhook-enabled", ({ ctx, principal, id }) =>
      updateWebhookEndpoint({ ctx, principal, input: { id, disabled: false } }),
    ),
  );
  app.post(
    "/platforms/:platformId/webhooks/:endpointId/delete",
    endpointAction("webhook-deleted", ({ ctx, principal, id }) =>
      deleteWebhookEndpoint({ ctx, principal, input: { id } }),
    ),
  );
  app.post(
    "/platforms/:platformId/webhooks/:endpointId/ping",
    endpointAction("webhook-pinged", ({ ctx, principal, id }) =>
      sendTestPing({ ctx, principal, input: { endpointId: id } }),
    ),
  );
  app.post(
    "/platforms/:platformId/webhooks/:endpointId/rotate",
    platformAction("webhook-action", async ({ c, ctx, platformId }) => {
      const id = c.req.param("endpointId") as string;
      const rotated = await rotateWebhookSecret({
        ctx,
        principal: actingAs(platformId),
        input: { id },
      });
      // The new secret is shown in this response only, as a new endpoint's.
      return {
        notice: "webhook-rotated",
        anchor: "webhooks",
        response: () =>
          pageWithSecret(
            c,
            ctx,
            platformId,
            { newSecret: { endpointId: rotated.id, secret: rotated.secret } },
            200,
          ),
      };
    }),
  );

  app.get("/events/:eventId", async (c) => {
    const event = await getEvent({
      ctx: c.get("deps"),
      principal: OPERATOR,
      input: { id: c.req.param("eventId").slice(0, 255) },
    });
    return html(c, <EventPage page={pageOf(c)} event={event} />);
  });

  app.get("/invoices/:invoiceId", async (c) => {
    const view = await loadInvoiceView(c.get("deps"), c.req.param("invoiceId").slice(0, 255));
    return html(c, <InvoicePage page={pageOf(c)} {...view} notice={c.req.query("notice")} />);
  });

  app.post(
    "/invoices/:invoiceId/void",
    invoiceAction("void", async ({ ctx, invoiceId }) => {
      await voidOpenInvoice({ ctx, input: { invoiceId } });
      return "voided";
    }),
  );

  app.post(
    "/invoices/:invoiceId/uncollectible",
    invoiceAction("uncollectible", async ({ ctx, invoiceId }) => {
      await markInvoiceUncollectible({ ctx, input: { invoiceId } });
      return "uncollectible";
    }),
  );

  app.post(
    "/invoices/:invoiceId/credit-notes",
    invoiceAction("credit-note", async ({ ctx, fields, invoiceId }) => {
      const input = parseWith(CreateCreditNoteBody, {
        invoiceId,
        amount: numberField(fields.amount),
        reason: fields.reason,
        refundAmount: numberField(fields.refundAmount),
        creditAmount: numberField(fields.creditAmount),
        memo: fields.memo?.trim() || undefined,
      });
      await createCreditNote({ ctx, input });
      return "credit-note";
    }),
  );

  app.get("/invoices", async (c) => {
    const filter = invoiceFilterOf(c);
    try {
      const ctx = c.get("deps");
      const list = await searchInvoices({ ctx, input: { ...filter, limit: 50 } });
      const creditNotes = await creditNotesOfInvoices({
        ctx,
        input: { invoiceIds: list.data.map((i) => i.id) },
      });
      return html(
        c,
        <InvoicesPage
          page={pageOf(c)}
          filter={filter}
          list={list}
          creditNotes={creditNotes}
          errors={{}}
        />,
      );
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "VALIDATION_ERROR") throw error;
      const empty = { data: [], hasMore: false, nextCursor: null };
      return html(
        c,
        <InvoicesPage page={pageOf(c)} filter={filter} list={empty} errors={fieldErrors(error)} />,
        400,
      );
    }
  });

  app.get("/invoices.csv", async (c) => {
    const { cursor: _cursor, ...filter } = invoiceFilterOf(c);
    const errors: Record<string, string> = {};
    if (!filter.from) errors.from = "required for an export";
    if (!filter.to) errors.to = "required for an export";
    const empty = { data: [], hasMore: false, nextCursor: null };
    if (!filter.from || !filter.to) {
      return html(
        c,
        <InvoicesPage page={pageOf(c)} filter={filter} list={empty} errors={errors} />,
        400,
      );
    }
    const rows = exportInvoicesCsv({
      ctx: c.get("deps"),
      input: { ...filter, from: filter.from, to: filter.to },
    });
    let first: IteratorResult<string>;
    try {
      first = await rows.next(); // validates the range before anything is sent
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "VALIDATION_ERROR") throw error;
      return html(
        c,
        <InvoicesPage page={pageOf(c)} filter={filter} list={empty} errors={fieldErrors(error)} />,
        400,
      );
    }
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(encoder.encode(first.value));
      },
      async pull(controller) {
        const next = await rows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await rows.return(undefined);
      },
    });
    return c.body(stream, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="invoices-${filter.from}-to-${filter.to}.csv"`,
      "cache-control": "no-store",
    });
  });

  return app;
};
