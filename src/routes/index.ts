import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { requireAuth } from "../http/auth.ts";
import type { AppEnv } from "../http/env.ts";
import { handleError } from "../http/error-handler.ts";
import { idempotency } from "../http/idempotency.ts";
import { rateLimitedResponse, validationHook, withSynchronousBody } from "../http/openapi.ts";
import { limitRequests } from "../http/rate-limit.ts";
import * as getCreditNote from "./credit-notes/get-credit-note.ts";
import * as getCreditNotePdf from "./credit-notes/get-credit-note-pdf.ts";
import * as listCreditNotes from "./credit-notes/list-credit-notes.ts";
import * as createCustomer from "./customers/create-customer.ts";
import * as getCustomer from "./customers/get-customer.ts";
import * as getDefaultPaymentMethod from "./customers/get-default-payment-method.ts";
import * as listCustomerPaymentMethods from "./customers/list-customer-payment-methods.ts";
import * as listCustomerSubscriptions from "./customers/list-customer-subscriptions.ts";
import * as updateCustomer from "./customers/update-customer.ts";
import * as hostedCreditNote from "./documents/hosted-credit-note.ts";
import * as hostedInvoice from "./documents/hosted-invoice.ts";
import * as getEvent from "./events/get-event.ts";
import * as listEvents from "./events/list-events.ts";
import * as redeliverEvent from "./events/redeliver-event.ts";
import * as getInvoice from "./invoices/get-invoice.ts";
import * as getInvoicePdf from "./invoices/get-invoice-pdf.ts";
import * as listInvoices from "./invoices/list-invoices.ts";
import * as createIngestionKey from "./operator/api-keys/create-ingestion-key.ts";
import * as listIngestionKeys from "./operator/api-keys/list-ingestion-keys.ts";
import * as revokeIngestionKey from "./operator/api-keys/revoke-ingestion-key.ts";
import * as applyCredit from "./operator/apply-credit.ts";
import * as createCreditNote from "./operator/credit-notes/create-credit-note.ts";
import * as generateInvoice from "./operator/generate-invoice.ts";
import * as markUncollectible from "./operator/invoices/mark-uncollectible.ts";
import * as rotateHostedUrl from "./operator/invoices/rotate-hosted-url.ts";
import * as voidInvoice from "./operator/invoices/void-invoice.ts";
import * as listFailures from "./operator/list-failures.ts";
import * as overrideSubscription from "./operator/override-subscription.ts";
import * as overview from "./operator/overview.ts";
import * as createApiKey from "./operator/platforms/create-api-key.ts";
import * as createPlatform from "./operator/platforms/create-platform.ts";
import * as getPlatformLimits from "./operator/platforms/get-limits.ts";
import * as getPlatform from "./operator/platforms/get-platform.ts";
import * as listPlatforms from "./operator/platforms/list-platforms.ts";
import * as putPlatformLimits from "./operator/platforms/put-limits.ts";
import * as revokeApiKey from "./operator/platforms/revoke-api-key.ts";
import * as startTrial from "./operator/start-trial.ts";
import * as advanceTestClock from "./operator/test-clock/advance-test-clock.ts";
import * as getTestClock from "./operator/test-clock/get-test-clock.ts";
import * as attachPaymentMethod from "./payment-methods/attach-payment-method.ts";
import * as detachPaymentMethod from "./payment-methods/detach-payment-method.ts";
import * as getPaymentMethod from "./payment-methods/get-payment-method.ts";
import * as listPlatformPaymentMethods from "./payment-methods/list-platform-payment-methods.ts";
import * as setDefaultPaymentMethod from "./payment-methods/set-default-payment-method.ts";
import * as listPlans from "./plans/list-plans.ts";
import * as createPortalSession from "./portal/create-portal-session.ts";
import * as createSetupIntent from "./setup-intents/create-setup-intent.ts";
import * as cancelPendingChange from "./subscription/cancel-pending-change.ts";
import * as cancelSubscription from "./subscription/cancel-subscription.ts";
import * as changeTier from "./subscription/change-tier.ts";
import * as getSubscription from "./subscription/get-subscription.ts";
import * as prorationPreview from "./subscription/proration-preview.ts";
import * as reservedSubscription from "./subscription/reserved.ts";
import * as resumeSubscription from "./subscription/resume-subscription.ts";
import * as cancelSubscriptionById from "./subscriptions/cancel-subscription-by-id.ts";
import * as createSubscription from "./subscriptions/create-subscription.ts";
import * as getSubscriptionById from "./subscriptions/get-subscription-by-id.ts";
import * as updateSubscription from "./subscriptions/update-subscription.ts";
import * as usageAlerts from "./usage/alerts.ts";
import * as usageCurrent from "./usage/current.ts";
import * as usageDaily from "./usage/daily.ts";
import * as usageEntities from "./usage/entities.ts";
import * as usageHistory from "./usage/history.ts";
import * as ingestEvents from "./usage/ingest-events.ts";
import * as createWebhookEndpoint from "./webhook-endpoints/create-webhook-endpoint.ts";
import * as deleteWebhookEndpoint from "./webhook-endpoints/delete-webhook-endpoint.ts";
import * as getWebhookEndpoint from "./webhook-endpoints/get-webhook-endpoint.ts";
import * as listWebhookDeliveries from "./webhook-endpoints/list-webhook-deliveries.ts";
import * as listWebhookEndpoints from "./webhook-endpoints/list-webhook-endpoints.ts";
import * as rotateWebhookSecret from "./webhook-endpoints/rotate-webhook-secret.ts";
import * as testWebhookEndpoint from "./webhook-endpoints/test-webhook-endpoint.ts";
import * as updateWebhookEndpoint from "./webhook-endpoints/update-webhook-endpoint.ts";
import * as stripeWebhook from "./webhooks/stripe-webhook.ts";

/**
 * Every operation authenticates, spends a token of the key's request bucket, then applies
 * `Idempotency-Key`, before its validators run, so a request without a key is a 401 whatever its
 * input, unknown paths stay 404, and a request refused by the rate limit (429) stores no
 * idempotency record. The docs get the route as written; the validators its JSON body parsed
 * synchronously (`withSynchronousBody`).
 */
const securedOn =
  (router: OpenAPIHono<AppEnv>) =>
  <R extends RouteConfig>(route: R): R => {
    const documented = { ...route, responses: { ...route.responses, 429: rateLimitedResponse } };
    router.openAPIRegistry.registerPath(documented);
    return {
      ...withSynchronousBody(documented),
      middleware: [requireAuth, limitRequests, idempotency],
      hide: true,
    };
  };

/** The areas of the reference, in the order the docs page shows them (one tag per operation). */
const tags = [
  { name: "Plans", description: "The plan catalog: tiers, prices, included usage and overage." },
  {
    name: "Platform subscription",
    description:
      "The calling platform's current subscription (`/subscription`): read it, change its tier (now or at period end), preview the proration, cancel it at period end and resume it.",
  },
  {
    name: "Subscriptions",
    description:
      "Subscriptions addressed by id (`/subscriptions/{id}`), Stripe-style: create, read, update, cancel.",
  },
  { name: "Customers", description: "Processor customers and what is attached to them." },
  {
    name: "Payment methods",
    description: "Cards on file, the default card, SetupIntents and the billing portal.",
  },
  { name: "Invoices", description: "Invoices with their lines, newest first." },
  {
    name: "Documents",
    description:
      "Hosted invoice and credit note pages and their PDFs, reached by an unguessable token URL (`hostedInvoiceUrl`, `hostedUrl`) without an API key.",
  },
  { name: "Usage", description: "Usage ingestion, snapshots, history and alerts." },
  {
    name: "Operator",
    description: "Operator-only billing actions: credits, overrides, trials, overview, failures.",
  },
  {
    name: "Platforms",
    description: "Operator-only: provision platforms, their API keys and rate limits.",
  },
  {
    name: "Ingestion keys",
    description: "Operator-only: `usage:write` keys for ingestion services.",
  },
  {
    name: "Test clock",
    description: "Operator-only, when the test clock is on: read it and move it forward.",
  },
  {
    name: "Events",
    description:
      "Every billing change a platform would act on, newest first; the same events are pushed to webhook endpoints.",
  },
  {
    name: "Webhook endpoints",
    description:
      "Where events are pushed, signed per Standard Webhooks; the delivery log, redelivery and test pings.",
  },
  { name: "Webhooks", description: "Events from the payment processor (signed, no API key)." },
];

/**
 * The OpenAPI document of the billing API: each operation once, with one server per prefix the
 * router is mounted under (`app.ts` serves it at both prefixes' `/openapi.json`; the typed client
 * is generated from it by `npm run client:generate`). Builds from route definitions only: no
 * database, no request.
 */
export const createOpenApiDocument = (
  router: ReturnType<typeof createBillingRouter>,
  prefixes: readonly string[],
) => {
  router.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The operator key, a platform key (nno_sk_...) or a usage:write service key",
  });
  return router.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "NNO Billing Service API",
      version: "1.0.0",
      description: `Billing, subscriptions, payments, and usage metering for the NNO platform. Every operation is served under each of the servers below (${prefixes.map((p) => `\`${p}\``).join(" and ")}).`,
    },
    servers: prefixes.map((url) => ({ url })),
    tags,
  });
};

/**
 * The authenticated billing API: every operation of the contract plus operator provisioning.
 * `app.ts` mounts it at `/` and at `/api/billing`.
 */
export const createBillingRouter = () => {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  router.onError(handleError);
  const secured = securedOn(router);
  return router
    .openapi(secured(listPlans.route), listPlans.handler)
    .openapi(secured(getSubscription.route), getSubscription.handler)
    .openapi(secured(reservedSubscription.route), reservedSubscription.handler)
    .openapi(secured(cancelSubscription.route), cancelSubscription.handler)
    .openapi(secured(changeTier.route), changeTier.handler)
    .openapi(secured(prorationPreview.route), prorationPreview.handler)
    .openapi(secured(resumeSubscription.route), resumeSubscription.handler)
    .openapi(secured(cancelPendingChange.route), cancelPendingChange.handler)
    .openapi(secured(usageCurrent.route), usageCurrent.handler)
    .openapi(secured(usageHistory.route), usageHistory.handler)
    .openapi(secured(usageEntities.route), usageEntities.handler)
    .openapi(secured(usageDaily.route), usageDaily.handler)
    .openapi(secured(usageAlerts.route), usageAlerts.handler)
    .openapi(secured(ingestEvents.route), ingestEvents.handler)
    .openapi(secured(listInvoices.route), listInvoices.handler)
    .openapi(secured(getInvoice.route), getInvoice.handler)
    .openapi(secured(getInvoicePdf.route), getInvoicePdf.handler)
    .openapi(secured(listCreditNotes.route), listCreditNotes.handler)
    .openapi(secured(getCreditNote.route), getCreditNote.handler)
    .openapi(secured(getCreditNotePdf.route), getCreditNotePdf.handler)
    .openapi(secured(listPlatformPaymentMethods.route), listPlatformPaymentMethods.handler)
    .openapi(secured(getPaymentMethod.route), getPaymentMethod.handler)
    .openapi(secured(attachPaymentMethod.route), attachPaymentMethod.handler)
    .openapi(secured(detachPaymentMethod.route), detachPaymentMethod.handler)
    .openapi(secured(setDefaultPaymentMethod.route), setDefaultPaymentMethod.handler)
    .openapi(secured(createSetupIntent.route), createSetupIntent.handler)
    .openapi(secured(createPortalSession.route), createPortalSession.handler)
    .openapi(secured(createCustomer.route), createCustomer.handler)
    .openapi(secured(getCustomer.route), getCustomer.handler)
    .openapi(secured(updateCustomer.route), updateCustomer.handler)
    .openapi(secured(listCustomerSubscriptions.route), listCustomerSubscriptions.handler)
    .openapi(secured(listCustomerPaymentMethods.route), listCustomerPaymentMethods.handler)
    .openapi(secured(getDefaultPaymentMethod.route), getDefaultPaymentMethod.handler)
    .openapi(secured(createSubscription.route), createSubscription.handler)
    .openapi(secured(getSubscriptionById.route), getSubscriptionById.handler)
    .openapi(secured(updateSubscription.route), updateSubscription.handler)
    .openapi(secured(cancelSubscriptionById.route), cancelSubscriptionById.handler)
    .openapi(secured(applyCredit.route), applyCredit.handler)
    .openapi(secured(generateInvoice.route), generateInvoice.handler)
    .openapi(secured(overrideSubscription.route), overrideSubscription.handler)
    .openapi(secured(startTrial.route), startTrial.handler)
    .openapi(secured(overview.route), overview.handler)
    .openapi(secured(voidInvoice.route), voidInvoice.handler)
    .openapi(secured(markUncollectible.route), markUncollectible.handler)
    .openapi(secured(rotateHostedUrl.route), rotateHostedUrl.handler)
    .openapi(secured(createCreditNote.route), createCreditNote.handler)
    .openapi(secured(listFailures.route), listFailures.handler)
    .openapi(secured(createPlatform.route), createPlatform.handler)
    .openapi(secured(listPlatforms.route), listPlatforms.handler)
    .openapi(secured(getPlatform.route), getPlatform.handler)
    .openapi(secured(createApiKey.route), createApiKey.handler)
    .openapi(secured(revokeApiKey.route), revokeApiKey.handler)
    .openapi(secured(getPlatformLimits.route), getPlatformLimits.handler)
    .openapi(secured(putPlatformLimits.route), putPlatformLimits.handler)
    .openapi(secured(createIngestionKey.route), createIngestionKey.handler)
    .openapi(secured(listIngestionKeys.route), listIngestionKeys.handler)
    .openapi(secured(revokeIngestionKey.route), revokeIngestionKey.handler)
    .openapi(secured(getTestClock.route), getTestClock.handler)
    .openapi(secured(advanceTestClock.route), advanceTestClock.handler)
    .openapi(secured(listEvents.route), listEvents.handler)
    .openapi(secured(getEvent.route), getEvent.handler)
    .openapi(secured(redeliverEvent.route), redeliverEvent.handler)
    .openapi(secured(createWebhookEndpoint.route), createWebhookEndpoint.handler)
    .openapi(secured(listWebhookEndpoints.route), listWebhookEndpoints.handler)
    .openapi(secured(getWebhookEndpoint.route), getWebhookEndpoint.handler)
    .openapi(secured(updateWebhookEndpoint.route), updateWebhookEndpoint.handler)
    .openapi(secured(deleteWebhookEndpoint.route), deleteWebhookEndpoint.handler)
    .openapi(secured(rotateWebhookSecret.route), rotateWebhookSecret.handler)
    .openapi(secured(listWebhookDeliveries.route), listWebhookDeliveries.handler)
    .openapi(secured(testWebhookEndpoint.route), testWebhookEndpoint.handler)
    .openapi(stripeWebhook.route, stripeWebhook.handler)
    .openapi(hostedInvoice.pageRoute, hostedInvoice.pageHandler)
    .openapi(hostedInvoice.pdfRoute, hostedInvoice.pdfHandler)
    .openapi(hostedInvoice.portalRoute, hostedInvoice.portalHandler)
    .openapi(hostedCreditNote.pageRoute, hostedCreditNote.pageHandler)
    .openapi(hostedCreditNote.pdfRoute, hostedCreditNote.pdfHandler);
};
