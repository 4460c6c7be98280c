import { readFileSync } from "node:fs";

/**
 * The route table: every route the service documents in its own `/openapi.json` (the reference's
 * routes and those beyond it: ingestion, operator provisioning and keys, failures, test clock,
 * webhooks), and every route of the published API reference (`spec/`), with what the
 * cross-route suites need to know about each: who may call it, a valid request, and the
 * documented constraints as requests that must be rejected.
 */
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface ReferenceRoute {
  method: Method;
  /** Path as the reference writes it, without the `/api/billing` prefix. */
  path: string;
}

const referenceFile = new URL("../spec/billing-api-reference.txt", import.meta.url);

/** Every (method, path) an OpenAPI document describes, without the `/api/billing` copies. */
export const readOpenApiRoutes = (doc: { paths: Record<string, object> }): ReferenceRoute[] =>
  Object.entries(doc.paths)
    .filter(([path]) => !path.startsWith("/api/billing/"))
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => ({
        method: method.toUpperCase() as Method,
        path,
      })),
    );

/** Every distinct (method, path) the reference documents, with the prefix stripped. */
export const readReferenceRoutes = (): ReferenceRoute[] => {
  const lines = readFileSync(referenceFile, "utf8").split("\n");
  const seen = new Map<string, ReferenceRoute>();
  lines.forEach((line, i) => {
    const method = line.trim();
    const next = lines[i + 1]?.trim() ?? "";
    if (/^(GET|POST|PATCH|DELETE|PUT)$/.test(method) && next.startsWith("/")) {
      const path = next.replace(/^\/api\/billing(?=\/)/, "");
      seen.set(`${method} ${path}`, { method: method as Method, path });
    }
  });
  return [...seen.values()];
};

/**
 * - `operator`: operator key only;
 * - `platform-query`: takes a required `platformId` query parameter (platform keys: their own);
 * - `acting-platform`: acts on the caller's platform (operators name it with ?platformId=);
 * - `resource`: addresses a resource by id (ownership checked once the resource exists);
 * - `owned-resource`: a resource by id that also takes an optional `platformId` (403 if not the
 *   caller's own);
 * - `any`: any platform or operator key.
 */
export type Access =
  | "operator"
  | "platform-query"
  | "acting-platform"
  | "resource"
  | "owned-resource"
  | "any"
  /** `POST /usage/events`: platforms named per event; usage:write keys of that platform too. */
  | "ingest"
  /** No API key: the request authenticates itself (a signed webhook). */
  | "public"
  /** No API key: the unguessable token in the path is the credential (hosted documents). */
  | "hosted";

export interface RequestSpec {
  /** Path parameters; unnamed ones get a sample value. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a valid request may refer to: the caller's platform and its processor objects. */
export interface Fixture {
  platformId: string;
  customerId: string;
  /** The customer's default payment method. */
  paymentMethodId: string;
  /** The platform's subscription (growth, monthly) and its first invoice. */
  subscriptionId: string;
  invoiceId: string;
  /** A credit note (of 1, to the balance) on that invoice. */
  creditNoteId: string;
  /** The hosted tokens of the invoice (as it is now: rotating it makes a new one) and note. */
  invoiceToken(): Promise<string>;
  creditNoteToken: string;
  /** Attaches a fresh card to the customer (for requests that consume one, like detach). */
  freshPaymentMethod(): Promise<string>;
  /** A new API key of the platform, and a new operator-level ingestion key (to revoke). */
  freshApiKey(): Promise<string>;
  freshIngestionKey(): Promise<string>;
  /** A `Stripe-Signature` header for a webhook payload, as the processor would sign it. */
  signWebhook(payload: string): string;
  /** One of the platform's events (its customer.created). */
  eventId: string;
  /** A webhook endpoint of the platform. */
  webhookEndpointId: string;
  /** A new webhook endpoint of the platform (for requests that consume one, like delete). */
  freshWebhookEndpoint(): Promise<string>;
}

export interface RouteCase {
  access: Access;
  /** A valid request on the caller's own platform and objects. */
  valid: (fixture: Fixture) => RequestSpec | Promise<RequestSpec>;
  /**
   * What a valid request answers. Several statuses where the answer depends on the state earlier
   * requests left (cancel twice: 200 then 409); behaviour is pinned down by the scenario tests.
   */
  expect: number | number[];
  /** Requests that break a documented constraint: each must be a 400 VALIDATION_ERROR. */
  invalid: Array<{ name: string } & RequestSpec>;
}

const none = () => ({});
/** The documented page parameters of a cursor-paginated list, broken. */
const badPage: RouteCase["invalid"] = [
  { name: "limit 0", query: { limit: "0" } },
  { name: "limit 101", query: { limit: "101" } },
  { name: "cursor not one of ours", query: { cursor: "not-a-cursor" } },
];
let sequence = 0;
/** A value no earlier request used (new platforms, event ids). */
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${++sequence}`;

/** A signed processor event about the caller's customer. */
const signedEvent = (f: Fixture): RequestSpec => {
  const body = {
    id: unique("evt_contract"),
    object: "event",
    type: "customer.updated",
    created: 1_770_000_000,
    livemode: false,
    data: { object: { id: f.customerId, object: "customer" } },
  };
  return { body, headers: { "stripe-signature": f.signWebhook(JSON.stringify(body)) } };
};
const withPlatform = ({ platformId }: Fixture) => ({ query: { platformId } });
const customer = (f: Fixture) => ({ params: { id: f.customerId } });
const ownInvoice = (f: Fixture) => ({ params: { id: f.invoiceId } });
const ownCreditNote = (f: Fixture) => ({ params: { id: f.creditNoteId } });
const invoiceToken = async (f: Fixture) => ({ params: { token: await f.invoiceToken() } });
const creditNoteToken = (f: Fixture) => ({ params: { token: f.creditNoteToken } });

export const routeCases: Record<string, RouteCase> = {
  "POST /usage/events": {
    access: "ingest",
    valid: (f) => ({
      body: { events: [{ id: unique("ev"), platformId: f.platformId, meter: "api_requests" }] },
    }),
    expect: 200,
    invalid: [
      { name: "events missing", body: {} },
      { name: "events empty", body: { events: [] } },
      { name: "event id missing", body: { events: [{ platformId: "p", meter: "api_requests" }] } },
      ...[
        ["value negative", -1],
        ["value above 10^12", 1e13],
        ["value with 7 decimals", 0.0000001],
        ["value a string", "3"],
      ].map(([name, value]) => ({
        name: String(name),
        body: { events: [{ id: "e1", platformId: "p", meter: "api_requests", value }] },
      })),
      { name: "unknown field", body: { events: [], extra: 1 } },
    ],
  },
  "GET /operator/failures": { access: "operator", valid: none, expect: 200, invalid: badPage },
  "POST /operator/platforms": {
    access: "operator",
    valid: () => {
      const platformId = unique("contract");
      return { body: { platformId, name: "Contract", email: `${platformId}@example.com` } };
    },
    expect: 201,
    invalid: [
      { name: "platformId missing", body: { name: "x", email: "x@example.com" } },
      { name: "email not an email", body: { platformId: "x1", name: "x", email: "nope" } },
      { name: "unknown field", body: { platformId: "x2", name: "x", email: "x@e.co", extra: 1 } },
    ],
  },
  "GET /operator/platforms": {
    access: "operator",
    valid: () => ({ query: { limit: "5" } }),
    expect: 200,
    invalid: [
      { name: "limit 0", query: { limit: "0" } },
      { name: "limit 101", query: { limit: "101" } },
    ],
  },
  "GET /operator/platforms/{platformId}": {
    access: "operator",
    valid: (f) => ({ params: { platformId: f.platformId } }),
    expect: 200,
    invalid: [],
  },
  "GET /operator/platforms/{platformId}/limits": {
    access: "operator",
    valid: (f) => ({ params: { platformId: f.platformId } }),
    expect: 200,
    invalid: [],
  },
  "PUT /operator/platforms/{platformId}/limits": {
    access: "operator",
    // Raises the platform's request limit: the suite's own requests stay well within it.
    valid: (f) => ({
      params: { platformId: f.platformId },
      body: { requestsPerSecond: 1000, requestBurst: 2000 },
    }),
    expect: 200,
    invalid: [
      { name: "eventBurst below the largest batch", body: { eventBurst: 999 } },
      { name: "requestsPerSecond 0", body: { requestsPerSecond: 0 } },
      { name: "requestBurst a string", body: { requestBurst: "many" } },
      { name: "unknown field", body: { burst: 5 } },
    ],
  },
  "POST /operator/platforms/{platformId}/api-keys": {
    access: "operator",
    valid: (f) => ({ params: { platformId: f.platformId }, body: { scopes: ["platform"] } }),
    expect: 201,
    invalid: [
      { name: "scope unknown", body: { scopes: ["admin"] } },
      { name: "scopes empty", body: { scopes: [] } },
    ],
  },
  "DELETE /operator/platforms/{platformId}/api-keys/{keyId}": {
    access: "operator",
    valid: async (f) => ({ params: { platformId: f.platformId, keyId: await f.freshApiKey() } }),
    expect: 200,
    invalid: [],
  },
  "POST /operator/api-keys": {
    access: "operator",
    valid: () => ({ body: { scopes: ["usage:write"] } }),
    expect: 201,
    invalid: [
      { name: "scopes missing", body: {} },
      { name: "scope platform", body: { scopes: ["platform"] } },
      { name: "description empty", body: { scopes: ["usage:write"], description: "" } },
    ],
  },
  "GET /operator/api-keys": { access: "operator", valid: none, expect: 200, invalid: badPage },
  "DELETE /operator/api-keys/{keyId}": {
    access: "operator",
    valid: async (f) => ({ params: { keyId: await f.freshIngestionKey() } }),
    expect: 200,
    invalid: [],
  },
  "GET /operator/test-clock": { access: "operator", valid: none, expect: 200, invalid: [] },
  "POST /operator/test-clock": {
    access: "operator",
    valid: () => ({ body: { advanceBy: 1 } }),
    expect: 200,
    invalid: [
      { name: "neither field", body: {} },
      { name: "advanceBy negative", body: { advanceBy: -1 } },
      { name: "advanceTo not a date", body: { advanceTo: "tomorrow" } },
    ],
  },
  "POST /webhooks/stripe": { access: "public", valid: signedEvent, expect: 200, invalid: [] },
  "GET /subscription": {
    access: "platform-query",
    valid: withPlatform,
    expect: 200,
    invalid: [
      { name: "platformId missing", query: {} },
      { name: "platformId empty", query: { platformId: "" } },
    ],
  },
  "POST /subscription": { access: "any", valid: none, expect: 501, invalid: [] },
  "POST /subscription/cancel": {
    access: "acting-platform",
    valid: withPlatform,
    expect: [200, 409],
    invalid: [{ name: "platformId empty", query: { platformId: "" } }],
  },
  "POST /subscription/change-tier": {
    access: "acting-platform",
    valid: ({ platformId }) => ({ query: { platformId }, body: { tier: "scale" } }),
    expect: [200, 409],
    invalid: [
      { name: "tier missing", body: {} },
      { name: "tier not in the enum", body: { tier: "platinum" } },
      { name: "tier wrong case", body: { tier: "Growth" } },
      { name: "tier not a string", body: { tier: 2 } },
      { name: "body an array", body: ["growth"] },
      { name: "unknown field", body: { tier: "growth", force: true } },
      { name: "interval not in the enum", body: { tier: "scale", interval: "weekly" } },
      { name: "at not in the enum", body: { tier: "scale", at: "tomorrow" } },
    ],
  },
  "GET /subscription/proration-preview": {
    access: "acting-platform",
    valid: ({ platformId }) => ({ query: { platformId, tier: "scale" } }),
    expect: [200, 409],
    invalid: [
      { name: "tier missing", query: {} },
      { name: "tier not in the enum", query: { tier: "enterprise" } },
      { name: "interval not in the enum", query: { tier: "scale", interval: "week" } },
    ],
  },
  "POST /subscription/resume": {
    access: "acting-platform",
    valid: withPlatform,
    expect: [200, 409],
    invalid: [{ name: "platformId empty", query: { platformId: "" } }],
  },
  "DELETE /subscription/pending-change": {
    access: "acting-platform",
    valid: withPlatform,
    expect: [200, 409],
    invalid: [{ name: "platformId empty", query: { platformId: "" } }],
  },
  "GET /usage/current": {
    access: "platform-query",
    valid: withPlatform,
    expect: 200,
    invalid: [
      { name: "platformId missing", query: {} },
      { name: "platformId empty", query: { platformId: "" } },
    ],
  },
  "GET /usage/history": {
    access: "acting-platform",
    valid: ({ platformId }) => ({ query: { platformId, limit: "10" } }),
    expect: 200,
    invalid: [
      { name: "limit 0", query: { limit: "0" } },
      { name: "limit 101", query: { limit: "101" } },
      { name: "limit not a number", query: { limit: "ten" } },
      { name: "limit fractional", query: { limit: "2.5" } },
      { name: "cursor empty", query: { cursor: "" } },
      { name: "cursor not one of ours", query: { cursor: "garbage" } },
      { name: "tenantId empty", query: { tenantId: "" } },
    ],
  },
  "GET /usage/entities": {
    access: "acting-platform",
    valid: ({ platformId }) => ({ query: { platformId, limit: "100" } }),
    expect: 200,
    invalid: [
      { name: "limit 0", query: { limit: "0" } },
      { name: "limit 101", query: { limit: "101" } },
      { name: "limit negative", query: { limit: "-1" } },
      { name: "cursor not one of ours", query: { cursor: "garbage" } },
    ],
  },
  "GET /invoices": {
    access: "platform-query",
    valid: withPlatform,
    expect: 200,
    invalid: [
      { name: "platformId missing", query: {} },
      { name: "platformId empty", query: { platformId: "" } },
    ],
  },
  "GET /invoices/{id}": {
    access: "owned-resource",
    valid: (f) => ({ params: { id: f.invoiceId }, query: { platformId: f.platformId } }),
    expect: 200,
    invalid: [{ name: "platformId empty", query: { platformId: "" } }],
  },
  "GET /invoices/{invoiceId}": {
    access: "owned-resource",
    valid: (f) => ({ params: { invoiceId: f.invoiceId }, query: { platformId: f.platformId } }),
    expect: 200,
    invalid: [{ name: "platformId empty", query: { platformId: "" } }],
  },
  "GET /invoices/{id}/pdf": { access: "resource", valid: ownInvoice, expect: 200, invalid: [] },
  "GET /credit-notes": {
    access: "platform-query",
    valid: withPlatform,
    expect: 200,
    invalid: [{ name: "platformId missing", query: {} }, ...badPage],
  },
  "GET /credit-notes/{id}": { access: "resource", valid: ownCreditNote, expect: 200, invalid: [] },
  "GET /credit-notes/{id}/pdf": {
    access: "resource",
    valid: ownCreditNote,
    expect: 200,
    invalid: [],
  },
  "GET /documents/invoices/{token}": {
    access: "hosted",
    valid: invoiceToken,
    expect: 200,
    invalid: [],
  },
  "GET /documents/invoices/{token}/pdf": {
    access: "hosted",
    valid: invoiceToken,
    expect: 200,
    invalid: [],
  },
  "GET /documents/invoices/{token}/portal": {
    access: "hosted",
    valid: invoiceToken,
    // The fixture's invoice is paid: there is no card to update for it.
    expect: [303, 409],
    invalid: [],
  },
  "GET /documents/credit-notes/{token}": {
    access: "hosted",
    valid: creditNoteToken,
    expect: 200,
    invalid: [],
  },
  "GET /documents/credit-notes/{token}/pdf": {
    access: "hosted",
    valid: creditNoteToken,
    expect: 200,
    invalid: [],
  },
  "GET /payment-methods": {
    access: "acting-platform",
    valid: withPlatform,
    expect: 200,
    invalid: badPage,
  },
  "POST /setup-intent": {
    access: "acting-platform",
    valid: withPlatform,
    expect: 200,
    invalid: [],
  },
  "POST /portal": {
    access: "acting-platform",
    valid: ({ platformId }) => ({
      query: { platformId },
      body: { returnUrl: "https://app.example.com/billing" },
    }),
    expect: 200,
    invalid: [
      { name: "returnUrl missing", body: {} },
      { name: "returnUrl not a URI", body: { returnUrl: "not a url" } },
      { name: "returnUrl not http(s)", body: { returnUrl: "javascript:alert(1)" } },
      { name: "returnUrl not a string", body: { returnUrl: 42 } },
    ],
  },
  "GET /usage/daily": {
    access: "platform-query",
    valid: ({ platformId }) => ({ query: { platformId, from: "2026-01-01", to: "2026-01-31" } }),
    expect: 200,
    invalid: [
      { name: "from missing", query: { to: "2026-01-31" } },
      { name: "to missing", query: { from: "2026-01-01" } },
      { name: "from not YYYY-MM-DD", query: { from: "2026-1-1", to: "2026-01-31" } },
      { name: "to not a date", query: { from: "2026-01-01", to: "yesterday" } },
      {
        name: "platformId missing",
        query: { from: "2026-01-01", to: "2026-01-31", platformId: "" },
      },
    ],
  },
  "GET /usage/alerts": {
    access: "platform-query",
    valid: withPlatform,
    expect: 200,
    invalid: [
      { name: "platformId missing", query: {} },
      { name: "platformId empty", query: { platformId: "" } },
    ],
  },
  "POST /operator/invoices/{id}/void": {
    access: "operator",
    valid: ownInvoice,
    // The fixture's invoice is paid: corrected by credit notes only.
    expect: 409,
    invalid: [],
  },
  "POST /operator/invoices/{id}/mark-uncollectible": {
    access: "operator",
    valid: ownInvoice,
    expect: 409,
    invalid: [],
  },
  "POST /operator/invoices/{id}/hosted-url/rotate": {
    access: "operator",
    valid: ownInvoice,
    expect: 200,
    invalid: [],
  },
  "POST /operator/credit-notes": {
    access: "operator",
    valid: (f) => ({
      body: { invoiceId: f.invoiceId, amount: 1, reason: "duplicate", creditAmount: 1 },
    }),
    expect: 201,
    invalid: [
      { name: "reason missing", body: { invoiceId: "in_x", amount: 1 } },
      { name: "reason unknown", body: { invoiceId: "in_x", amount: 1, reason: "whim" } },
      { name: "amount and lines missing", body: { invoiceId: "in_x", reason: "duplicate" } },
      { name: "amount zero", body: { invoiceId: "in_x", amount: 0, reason: "duplicate" } },
      { name: "amount a string", body: { invoiceId: "in_x", amount: "1", reason: "duplicate" } },
      { name: "lines empty", body: { invoiceId: "in_x", lines: [], reason: "duplicate" } },
      {
        name: "refundAmount negative",
        body: { invoiceId: "in_x", amount: 1, reason: "duplicate", refundAmount: -1 },
      },
      {
        name: "memo too long",
        body: { invoiceId: "in_x", amount: 1, reason: "duplicate", memo: "m".repeat(1001) },
      },
    ],
  },
  "POST /operator/credits": {
    access: "operator",
    valid: (f) => ({ body: { customerId: f.customerId, amount: 12.5, description: "goodwill" } }),
    expect: 200,
    invalid: [
      { name: "customerId missing", body: { amount: 1, description: "x" } },
      { name: "customerId empty", body: { customerId: "", amount: 1, description: "x" } },
      { name: "amount missing", body: { customerId: "c", description: "x" } },
      { name: "amount zero", body: { customerId: "c", amount: 0, description: "x" } },
      { name: "amount negative", body: { customerId: "c", amount: -5, description: "x" } },
      { name: "amount a string", body: { customerId: "c", amount: "10", description: "x" } },
      {
        name: "currency 2 letters",
        body: { customerId: "c", amount: 1, currency: "us", description: "x" },
      },
      {
        name: "currency 4 letters",
        body: { customerId: "c", amount: 1, currency: "usdd", description: "x" },
      },
      { name: "description missing", body: { customerId: "c", amount: 1 } },
      { name: "description empty", body: { customerId: "c", amount: 1, description: "" } },
    ],
  },
  "POST /operator/invoices/generate": {
    access: "operator",
    valid: (f) => ({ body: { customerId: f.customerId, description: "manual run" } }),
    expect: [201, 409], // 409: nothing pending (the fixture has no usage overage)
    invalid: [
      { name: "customerId missing", body: {} },
      { name: "customerId empty", body: { customerId: "" } },
      { name: "description not a string", body: { customerId: "c", description: 5 } },
    ],
  },
  "PATCH /operator/subscriptions/{id}/override": {
    access: "operator",
    valid: (f) => ({ params: { id: f.subscriptionId }, body: { planTier: "scale" } }),
    expect: [200, 409],
    invalid: [
      { name: "planTier unknown", body: { planTier: "gold" } },
      { name: "trialEnd not a number", body: { trialEnd: "tomorrow" } },
      { name: "trialEnd fractional", body: { trialEnd: 1.5 } },
    ],
  },
  "POST /operator/subscriptions/{id}/trial": {
    access: "operator",
    valid: (f) => ({ params: { id: f.subscriptionId }, body: { trialDays: 14 } }),
    expect: [200, 409],
    invalid: [
      { name: "trialDays missing", body: {} },
      { name: "trialDays 0", body: { trialDays: 0 } },
      { name: "trialDays 366", body: { trialDays: 366 } },
      { name: "trialDays fractional", body: { trialDays: 1.5 } },
      { name: "trialDays a string", body: { trialDays: "14" } },
    ],
  },
  "GET /operator/overview": { access: "operator", valid: none, expect: 200, invalid: [] },
  "GET /events": {
    access: "any",
    valid: none,
    expect: 200,
    invalid: [{ name: "type unknown", query: { type: "invoice.nonsense" } }, ...badPage],
  },
  "GET /events/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.eventId } }),
    expect: 200,
    invalid: [],
  },
  "POST /events/{id}/redeliver": {
    access: "resource",
    valid: (f) => ({ params: { id: f.eventId }, body: {} }),
    expect: 202,
    invalid: [{ name: "endpointId empty", body: { endpointId: "" } }],
  },
  "POST /webhook-endpoints": {
    access: "any",
    valid: () => ({ body: { url: "https://hooks.example.com/billing", enabledEvents: ["*"] } }),
    expect: 201,
    invalid: [
      { name: "url missing", body: { enabledEvents: ["*"] } },
      { name: "url not http(s)", body: { url: "ftp://x.example", enabledEvents: ["*"] } },
      { name: "enabledEvents empty", body: { url: "https://x.example", enabledEvents: [] } },
      {
        name: "enabledEvents unknown",
        body: { url: "https://x.example", enabledEvents: ["invoice.nonsense"] },
      },
    ],
  },
  "GET /webhook-endpoints": { access: "any", valid: none, expect: 200, invalid: badPage },
  "GET /webhook-endpoints/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.webhookEndpointId } }),
    expect: 200,
    invalid: [],
  },
  "PATCH /webhook-endpoints/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.webhookEndpointId }, body: { description: "renamed" } }),
    expect: 200,
    invalid: [
      { name: "url not http(s)", body: { url: "ftp://x.example" } },
      { name: "disabled not a boolean", body: { disabled: "yes" } },
    ],
  },
  "DELETE /webhook-endpoints/{id}": {
    access: "resource",
    valid: async (f) => ({ params: { id: await f.freshWebhookEndpoint() } }),
    expect: 200,
    invalid: [],
  },
  "POST /webhook-endpoints/{id}/rotate-secret": {
    access: "resource",
    valid: (f) => ({ params: { id: f.webhookEndpointId } }),
    expect: 200,
    invalid: [],
  },
  "GET /webhook-endpoints/{id}/deliveries": {
    access: "resource",
    valid: (f) => ({ params: { id: f.webhookEndpointId } }),
    expect: 200,
    invalid: badPage,
  },
  "POST /webhook-endpoints/{id}/test": {
    access: "resource",
    valid: (f) => ({ params: { id: f.webhookEndpointId } }),
    expect: 202,
    invalid: [],
  },
  "GET /plans": { access: "any", valid: none, expect: 200, invalid: [] },
  "POST /customers": {
    access: "operator",
    valid: () => ({ body: { email: "user@example.com", name: "User" } }),
    expect: 201,
    invalid: [
      { name: "email missing", body: {} },
      { name: "email not an email", body: { email: "not-an-email" } },
      { name: "name not a string", body: { email: "a@b.co", name: 3 } },
      { name: "metadata not an object", body: { email: "a@b.co", metadata: "x" } },
    ],
  },
  "GET /customers/{id}": { access: "resource", valid: customer, expect: 200, invalid: [] },
  "PATCH /customers/{id}": {
    access: "resource",
    valid: (f) => ({ ...customer(f), body: { name: "New name" } }),
    expect: 200,
    invalid: [
      { name: "email not an email", body: { email: "nope" } },
      {
        name: "address country not ISO 3166",
        body: { address: { line1: "a", city: "b", postalCode: "1", country: "ZZ" } },
      },
      {
        name: "address city missing",
        body: { address: { line1: "a", postalCode: "1", country: "US" } },
      },
      { name: "taxId with markup", body: { taxId: "<b>1</b>" } },
    ],
  },
  "GET /customers/{id}/subscriptions": {
    access: "resource",
    valid: customer,
    expect: 200,
    invalid: badPage,
  },
  "GET /customers/{id}/payment-methods": {
    access: "resource",
    valid: (f) => ({ ...customer(f), query: { type: "card" } }),
    expect: 200,
    invalid: [{ name: "type empty", query: { type: "" } }, ...badPage],
  },
  "GET /customers/{id}/payment-methods/default": {
    access: "resource",
    valid: customer,
    expect: 200,
    invalid: [],
  },
  "POST /subscriptions": {
    access: "any",
    valid: ({ platformId }) => ({
      body: {
        userId: platformId,
        priceId: "price_growth_monthly",
        paymentMethodId: "pm_card_visa",
      },
    }),
    expect: [201, 409],
    invalid: [
      { name: "userId missing", body: { priceId: "p", paymentMethodId: "pm" } },
      { name: "userId empty", body: { userId: "", priceId: "p", paymentMethodId: "pm" } },
      { name: "priceId empty", body: { userId: "u", priceId: "", paymentMethodId: "pm" } },
      { name: "paymentMethodId missing", body: { userId: "u", priceId: "p" } },
      {
        name: "quantity 0",
        body: { userId: "u", priceId: "p", paymentMethodId: "pm", quantity: 0 },
      },
      {
        name: "quantity fractional",
        body: { userId: "u", priceId: "p", paymentMethodId: "pm", quantity: 1.5 },
      },
    ],
  },
  "GET /subscriptions/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.subscriptionId } }),
    expect: 200,
    invalid: [],
  },
  "PATCH /subscriptions/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.subscriptionId }, body: { quantity: 2 } }),
    expect: [200, 409],
    invalid: [
      { name: "quantity 0", body: { quantity: 0 } },
      { name: "priceId empty", body: { priceId: "" } },
      { name: "paymentMethodId empty", body: { paymentMethodId: "" } },
      { name: "cancelAtPeriodEnd not a boolean", body: { cancelAtPeriodEnd: "yes" } },
      { name: "at not in the enum", body: { quantity: 2, at: "later" } },
      { name: "at without a change", body: { at: "period_end" } },
      { name: "pendingChange not null", body: { pendingChange: { tier: "scale" } } },
    ],
  },
  "DELETE /subscriptions/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.subscriptionId }, query: { immediately: "false" } }),
    expect: [200, 409],
    invalid: [{ name: "immediately not a boolean", query: { immediately: "maybe" } }],
  },
  "POST /payment-methods/{id}/attach": {
    access: "resource",
    valid: (f) => ({ params: { id: "pm_card_visa" }, body: { customerId: f.customerId } }),
    expect: 200,
    invalid: [
      { name: "customerId missing", body: {} },
      { name: "customerId empty", body: { customerId: "" } },
      { name: "setAsDefault not a boolean", body: { customerId: "c", setAsDefault: "yes" } },
    ],
  },
  "POST /payment-methods/{id}/detach": {
    access: "resource",
    valid: async (f) => ({ params: { id: await f.freshPaymentMethod() } }),
    expect: 200,
    invalid: [],
  },
  "GET /payment-methods/{id}": {
    access: "resource",
    valid: (f) => ({ params: { id: f.paymentMethodId } }),
    expect: 200,
    invalid: [],
  },
  "POST /payment-methods/{id}/set-default": {
    access: "resource",
    valid: (f) => ({ params: { id: f.paymentMethodId }, body: { customerId: f.customerId } }),
    expect: 200,
    invalid: [
      { name: "customerId missing", body: {} },
      { name: "customerId empty", body: { customerId: "" } },
    ],
  },
};

/** A concrete URL for a route: path parameters filled, query appended. */
export const urlFor = (
  prefix: "" | "/api/billing",
  route: ReferenceRoute,
  query: Record<string, string> = {},
  params: Record<string, string> = {},
) => {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(params[name] ?? params.id ?? `${name}_sample_1`),
  );
  const search = new URLSearchParams(query).toString();
  return `${prefix}${path}${search ? `?${search}` : ""}`;
};

export const prefixes = ["", "/api/billing"] as const;
