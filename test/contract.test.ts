import fc from "fast-check";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_WEBHOOK_SECRET_DEFAULT } from "../src/emulator/stripe/index.ts";
import { useTestApp } from "./harness.ts";
import {
  type Fixture,
  prefixes,
  type ReferenceRoute,
  type RequestSpec,
  readOpenApiRoutes,
  readReferenceRoutes,
  routeCases,
  urlFor,
} from "./route-table.ts";

/**
 * Cross-route suites over every route the service serves: existence under both prefixes,
 * authentication, tenant isolation, documented constraints and malformed input. The routes are
 * read from the service's own /openapi.json (and the published reference), so a route added to
 * either is covered the day it lands (and the first test fails until the table describes it).
 */
// Hundreds of requests from one key in a few seconds: the tenant limits (their own suite is
// test/rate-limits.test.ts) are set out of reach here.
const t = await useTestApp({
  env: {
    BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "100000",
    BILLING_RATE_LIMIT_REQUEST_BURST: "100000",
  },
});
const openApi = (await t.request("GET", "/openapi.json", { key: null })).body;
const referenceRoutes = readReferenceRoutes();
const key = (r: ReferenceRoute) => `${r.method} ${r.path}`;
const routes = [
  ...new Map(
    [...readOpenApiRoutes(openApi), ...referenceRoutes].map((r) => [key(r), r] as const),
  ).values(),
];
interface OpenApiOperation {
  operationId: string;
  tags: string[];
}
const signer = new Stripe("sk_test_signing_only");
const caseOf = (r: ReferenceRoute) => {
  const c = routeCases[key(r)];
  if (!c) throw new Error(`no route case for ${key(r)}`);
  return c;
};

type Caller = Awaited<ReturnType<typeof t.createPlatform>>;
let own: Caller;
let other: Caller;
let service: Caller;
let ownFixture: Fixture;
let otherFixture: Fixture;

/** A platform with a default card, as every resource route's valid request needs. */
const fixtureFor = async (caller: Caller): Promise<Fixture> => {
  const freshPaymentMethod = async () => {
    const res = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      body: { customerId: caller.customerId },
    });
    if (res.status !== 200) throw new Error(`attach failed: ${res.text}`);
    return res.body.id as string;
  };
  const paymentMethodId = await freshPaymentMethod();
  await t.request("POST", `/payment-methods/${paymentMethodId}/set-default`, {
    body: { customerId: caller.customerId },
  });
  const subscribed = await t.request("POST", "/subscriptions", {
    body: { userId: caller.platformId, priceId: "price_growth_monthly", paymentMethodId },
  });
  if (subscribed.status !== 201) throw new Error(`subscribe failed: ${subscribed.text}`);
  const invoices = await t.request("GET", `/invoices?platformId=${caller.platformId}`);
  const created = async (path: string, body: unknown) => {
    const res = await t.request("POST", path, { body });
    if (res.status !== 201) throw new Error(`${path} failed: ${res.text}`);
    return res.body.id as string;
  };
  const freshWebhookEndpoint = async () => {
    const res = await t.request("POST", "/webhook-endpoints", {
      key: caller.key,
      body: { url: "https://hooks.example.com/contract", enabledEvents: ["invoice.paid"] },
    });
    if (res.status !== 201) throw new Error(`endpoint failed: ${res.text}`);
    return res.body.id as string;
  };
  const events = await t.request(
    "GET",
    `/events?platformId=${caller.platformId}&type=customer.created`,
  );
  const invoiceId = invoices.body.data[0].id as string;
  const note = await t.request("POST", "/operator/credit-notes", {
    body: { invoiceId, amount: 1, reason: "duplicate", creditAmount: 1 },
  });
  if (note.status !== 201) throw new Error(`credit note failed: ${note.text}`);
  const tokenOf = (url: string) => url.split("/").at(-1) as string;
  return {
    eventId: events.body.data[0].id,
    webhookEndpointId: await freshWebhookEndpoint(),
    freshWebhookEndpoint,
    platformId: caller.platformId,
    customerId: caller.customerId,
    paymentMethodId,
    subscriptionId: subscribed.body.id,
    invoiceId,
    creditNoteId: note.body.id,
    creditNoteToken: tokenOf(note.body.hostedUrl),
    invoiceToken: async () =>
      tokenOf((await t.request("GET", `/invoices/${invoiceId}`)).body.hostedInvoiceUrl),
    freshPaymentMethod,
    freshApiKey: () => created(`/operator/platforms/${caller.platformId}/api-keys`, {}),
    freshIngestionKey: () => created("/operator/api-keys", { scopes: ["usage:write"] }),
    signWebhook: (payload) =>
      signer.webhooks.generateTestHeaderString({
        payload,
        secret: EMULATOR_WEBHOOK_SECRET_DEFAULT,
        timestamp: Math.floor(t.clock.now().getTime() / 1000),
      }),
  };
};

beforeAll(async () => {
  own = await t.createPlatform();
  other = await t.createPlatform();
  service = await t.createPlatform(["usage:write"]);
  ownFixture = await fixtureFor(own);
  otherFixture = await fixtureFor(other);
});

const expectStatus = (res: { status: number; text: string }, expected: number | number[]) => {
  const allowed = Array.isArray(expected) ? expected : [expected];
  expect(allowed, res.text).toContain(res.status);
};

const expectEnvelope = (res: { status: number; body: unknown; headers: Headers }, code: string) => {
  expect(res.body).toMatchObject({
    error: { code, message: expect.any(String), requestId: expect.any(String) },
  });
  expect(res.headers.get("x-request-id")).toBe(
    (res.body as { error: { requestId: string } }).error.requestId,
  );
};

const send = (
  r: ReferenceRoute,
  prefix: "" | "/api/billing",
  spec: RequestSpec,
  apiKey: string | null,
  headers: Record<string, string> = {},
) =>
  t.request(r.method, urlFor(prefix, r, spec.query, spec.params), {
    key: apiKey,
    headers: { ...spec.headers, ...headers },
    ...(spec.body === undefined ? {} : { body: spec.body }),
  });

describe("the route table", () => {
  it("describes exactly the routes the service documents and the reference lists", () => {
    expect(referenceRoutes.length).toBeGreaterThanOrEqual(36);
    expect(routes.length).toBeGreaterThan(referenceRoutes.length);
    expect(routes.map(key).sort()).toEqual(Object.keys(routeCases).sort());
  });

  it("documents every route of the reference once, served under both prefixes, with its errors", async () => {
    const doc = await t.request("GET", "/openapi.json", { key: null });
    expect(doc.status).toBe(200);
    // One entry per operation; the prefixes are servers, and the suites below call both.
    expect(doc.body.servers).toEqual(prefixes.map((p) => ({ url: p || "/" })));
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith("/api/billing"))).toEqual([]);
    for (const r of referenceRoutes) {
      const path = r.path.replace("{invoiceId}", "{id}");
      const op = doc.body.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${path}`).toBeDefined();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "500"]));
      expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
    // The same document under the other prefix.
    expect((await t.request("GET", "/api/billing/openapi.json", { key: null })).body).toEqual(
      doc.body,
    );
    const changeTier = doc.body.paths["/subscription/change-tier"].post;
    expect(JSON.stringify(changeTier.requestBody)).toContain("ChangeTierRequest");
    const daily = doc.body.paths["/usage/daily"].get.parameters;
    expect(daily.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["platformId", "tenantId", "from", "to"]),
    );
  });

  it("names every operation once, in camelCase, under one of the declared tags", () => {
    const declared = (openApi.tags as Array<{ name: string }>).map((tag) => tag.name);
    const ids: string[] = [];
    for (const [path, operations] of Object.entries(openApi.paths as Record<string, object>)) {
      for (const [method, op] of Object.entries(operations) as Array<[string, OpenApiOperation]>) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][a-zA-Z0-9]*$/);
        expect(op.tags, `${method} ${path}`).toHaveLength(1);
        expect(declared).toContain(op.tags[0]);
        ids.push(op.operationId);
      }
    }
    expect(ids.length).toBe(readOpenApiRoutes(openApi).length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(["listPlans", "changeSubscriptionTier"]));
    // Every declared tag is used ("Subscription" and "Subscriptions" are not both tags).
    const used = new Set(
      Object.values(openApi.paths as Record<string, Record<string, OpenApiOperation>>).flatMap(
        (ops) => Object.values(ops).map((op) => op.tags[0]),
      ),
    );
    expect([...used].sort()).toEqual([...declared].sort());
  });
});

/** The schema of an operation's 200 answer, `$ref`s resolved one level. */
const okSchema = (r: ReferenceRoute) => {
  const op = openApi.paths[r.path]?.[r.method.toLowerCase()];
  const schema = op?.responses?.["200"]?.content?.["application/json"]?.schema;
  const ref = schema?.$ref as string | undefined;
  return ref ? openApi.components.schemas[ref.replace("#/components/schemas/", "")] : schema;
};
/** Every GET whose answer is a collection: an array, or an object carrying a `data` array. */
const listRoutes = readOpenApiRoutes(openApi).filter((r) => {
  const schema = okSchema(r);
  return (
    r.method === "GET" && (schema?.type === "array" || schema?.properties?.data?.type === "array")
  );
});

describe("lists", () => {
  it("all document one shape, {data, hasMore, nextCursor}", () => {
    expect(listRoutes.map(key)).toEqual(
      expect.arrayContaining([
        "GET /plans",
        "GET /usage/alerts",
        "GET /payment-methods",
        "GET /customers/{id}/payment-methods",
        "GET /customers/{id}/subscriptions",
        "GET /invoices",
        "GET /operator/platforms",
        "GET /operator/api-keys",
        "GET /operator/failures",
      ]),
    );
    for (const r of listRoutes) {
      const schema = okSchema(r);
      expect(schema.type, key(r)).toBe("object");
      expect(Object.keys(schema.properties).sort(), key(r)).toEqual([
        "data",
        "hasMore",
        "nextCursor",
      ]);
      expect(schema.required?.sort(), key(r)).toEqual(["data", "hasMore", "nextCursor"]);
    }
  });

  it.each(listRoutes.map((r) => [key(r), r] as const))(
    "%s answers {data, hasMore, nextCursor}",
    async (_name, r) => {
      const res = await send(r, "", await caseOf(r).valid(ownFixture), t.operatorKey);
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["data", "hasMore", "nextCursor"]);
      expect(Array.isArray(res.body.data)).toBe(true);
      expect(typeof res.body.hasMore).toBe("boolean");
      expect(res.body.nextCursor === null || typeof res.body.nextCursor === "string").toBe(true);
      expect(res.body.hasMore).toBe(res.body.nextCursor !== null);
    },
  );
});

describe.each(routes.map((r) => [key(r), r] as const))("%s", (_name, route) => {
  const rc = caseOf(route);

  if (rc.access === "hosted") {
    it.each(prefixes)(
      "exists under '%s/', needs no key, and answers 404 for an unknown token",
      async (prefix) => {
        const spec = await rc.valid(ownFixture);
        expectStatus(await send(route, prefix, spec, null), rc.expect);
        const unknown = { params: { token: "0".repeat(40) } };
        const res = await send(route, prefix, unknown, null);
        expect(res.status).toBe(404);
        expectEnvelope(res, "NOT_FOUND");
      },
    );
  } else if (rc.access === "public") {
    it.each(prefixes)(
      "exists under '%s/' and answers 400 without a valid signature",
      async (prefix) => {
        const spec = await rc.valid(ownFixture);
        const unsigned: Array<Record<string, string>> = [
          {},
          { "stripe-signature": "t=1,v1=forged" },
        ];
        for (const headers of unsigned) {
          const res = await send(route, prefix, { ...spec, headers }, null);
          expect(res.status).toBe(400);
          expectEnvelope(res, "VALIDATION_ERROR");
        }
      },
    );
  } else {
    it.each(prefixes)("exists under '%s/' and answers 401 without a valid key", async (prefix) => {
      const none = await send(route, prefix, await rc.valid(ownFixture), null);
      expect(none.status).toBe(401);
      expectEnvelope(none, "UNAUTHORIZED");
      for (const bad of ["nno_sk_not_a_real_key", "nno_ik_not_a_real_key"]) {
        const unknown = await send(route, prefix, await rc.valid(ownFixture), bad);
        expect(unknown.status).toBe(401);
        expectEnvelope(unknown, "UNAUTHORIZED");
      }
    });
  }

  it.each(prefixes)("answers a valid operator request under '%s/'", async (prefix) => {
    const res = await send(route, prefix, await rc.valid(ownFixture), t.operatorKey);
    expectStatus(res, rc.expect);
    if (res.status === 501) expectEnvelope(res, "NOT_IMPLEMENTED");
  });

  if (rc.access === "ingest") {
    it("refuses another platform's events to a platform's keys, storing nothing", async () => {
      for (const caller of [own, service]) {
        const res = await send(route, "", await rc.valid(otherFixture), caller.key);
        expect(res.status, res.text).toBe(400);
        expectEnvelope(res, "VALIDATION_ERROR");
        expect(res.body.error.details[0].path).toEqual(["events", 0, "platformId"]);
      }
    });
  }

  if (rc.access === "public" || rc.access === "hosted") {
    // Signed by the processor, or the token is the credential: keys play no part.
  } else if (rc.access === "operator") {
    it("is forbidden to platform keys", async () => {
      const res = await send(route, "", await rc.valid(ownFixture), own.key);
      expect(res.status).toBe(403);
      expectEnvelope(res, "FORBIDDEN");
    });
  } else {
    it("accepts the platform's own key", async () => {
      const res = await send(route, "/api/billing", await rc.valid(ownFixture), own.key);
      expectStatus(res, rc.expect);
    });
  }

  if (rc.access === "resource" && rc.expect !== 501) {
    it("hides another platform's objects (404)", async () => {
      const res = await send(route, "", await rc.valid(otherFixture), own.key);
      expect(res.status, res.text).toBe(404);
      expectEnvelope(res, "NOT_FOUND");
    });
  }

  if (["platform-query", "acting-platform", "owned-resource"].includes(rc.access)) {
    it("is forbidden for another platform's platformId", async () => {
      const spec = await rc.valid(otherFixture);
      const res = await send(
        route,
        "",
        { ...spec, query: { ...spec.query, platformId: other.platformId } },
        own.key,
      );
      expect(res.status).toBe(403);
      expectEnvelope(res, "FORBIDDEN");
    });
  }

  if (rc.access === "acting-platform") {
    it("needs the operator to name the platform", async () => {
      const spec = await rc.valid(ownFixture);
      const { platformId: _, ...rest } = spec.query ?? {};
      const res = await send(route, "", { ...spec, query: rest }, t.operatorKey);
      expect(res.status).toBe(400);
      expectEnvelope(res, "VALIDATION_ERROR");
      const viaHeader = await send(route, "", { ...spec, query: rest }, t.operatorKey, {
        "x-platform-id": own.platformId,
      });
      expectStatus(viaHeader, rc.expect);
    });
  }

  if (rc.access === "ingest") {
    it("accepts a usage:write key of the platform, and an operator-level ingestion key", async () => {
      const serviceSpec = await rc.valid({ ...ownFixture, platformId: service.platformId });
      expectStatus(await send(route, "", serviceSpec, service.key), rc.expect);
      const ingestion = await t.request("POST", "/operator/api-keys", {
        body: { scopes: ["usage:write"] },
      });
      expectStatus(
        await send(route, "", await rc.valid(otherFixture), ingestion.body.key),
        rc.expect,
      );
    });
  } else if (rc.access !== "public" && rc.access !== "hosted") {
    it("is forbidden to usage:write keys", async () => {
      const ingestion = await t.request("POST", "/operator/api-keys", {
        body: { scopes: ["usage:write"] },
      });
      for (const apiKey of [service.key, ingestion.body.key]) {
        const res = await send(route, "", await rc.valid(ownFixture), apiKey);
        expect(res.status).toBe(403);
        expectEnvelope(res, "FORBIDDEN");
      }
    });
  }

  if (rc.invalid.length > 0) {
    it.each(rc.invalid)("rejects $name with 400", async (bad) => {
      const valid = await rc.valid(ownFixture);
      const spec = {
        params: valid.params,
        query: bad.query ?? valid.query,
        body: "body" in bad ? bad.body : valid.body,
      };
      for (const apiKey of [t.operatorKey, rc.access === "operator" ? null : own.key]) {
        if (apiKey === null) continue;
        const res = await send(route, "", spec, apiKey);
        expect(res.status, res.text).toBe(400);
        expectEnvelope(res, "VALIDATION_ERROR");
        expect(Array.isArray(res.body.error.details)).toBe(true);
        expect(res.body.error.details.length).toBeGreaterThan(0);
      }
    });
  }

  it("never answers 500 to malformed input", async () => {
    const url = urlFor("", route, {}, (await rc.valid(ownFixture)).params);
    const huge = "x".repeat(200_000);
    const raw = [
      "{",
      "{'tier':'growth'}",
      "null",
      "[]",
      '"just a string"',
      "12",
      "\u0000",
      `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`,
      JSON.stringify({ tier: huge, returnUrl: huge, customerId: huge, email: huge }),
    ];
    const statuses: number[] = [];
    for (const apiKey of [t.operatorKey, own.key]) {
      for (const body of raw) {
        const res = await t.request(route.method, url, {
          key: apiKey,
          rawBody: route.method === "GET" ? undefined : body,
          headers: { "content-type": "application/json" },
        });
        statuses.push(res.status);
        expect(res.body.error ?? res.body, `${body.slice(0, 40)} → ${res.status}`).toBeDefined();
      }
      const textBody = await t.request(route.method, url, {
        key: apiKey,
        rawBody: route.method === "GET" ? undefined : "tier=growth",
        headers: { "content-type": "text/plain" },
      });
      statuses.push(textBody.status);
      for (const query of [
        `platformId=${huge}`,
        "platformId=a&platformId=b",
        "limit=1e400",
        "from=%zz&to=2026-13-45",
        `tier=${encodeURIComponent("growth\u0000")}`,
        "cursor=eyJ0IjoiIiwiaWQiOiIifQ",
      ]) {
        const res = await t.request(route.method, `${url}?${query}`, { key: apiKey });
        statuses.push(res.status);
      }
    }
    expect(statuses.filter((s) => s >= 500 && s !== 501)).toEqual([]);
  });

  it("refuses NUL and lone surrogates anywhere in the input with 400, stores nothing", async () => {
    const valid = await rc.valid(ownFixture);
    const tainting =
      (bad: string) =>
      (value: unknown): unknown =>
        typeof value === "string"
          ? `${value}${bad}`
          : Array.isArray(value)
            ? value.map(tainting(bad))
            : value !== null && typeof value === "object"
              ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tainting(bad)(v)]))
              : value;
    const url = urlFor("", route, {}, valid.params);
    const query = await t.request(route.method, `${url}${url.includes("?") ? "&" : "?"}x=a%00b`, {
      key: own.key,
      ...(route.method === "GET" ? {} : { body: valid.body ?? {} }),
    });
    expectEnvelope(query, "VALIDATION_ERROR");
    for (const bad of ["\u0000", "\ud800", "\udfff"]) {
      const tainted = tainting(bad)(valid.body);
      // Bodies with no text at all (`{ trialDays }`) have nowhere to put one.
      if (route.method !== "GET" && JSON.stringify(tainted) !== JSON.stringify(valid.body)) {
        const res = await send(route, "", { ...valid, body: tainted }, own.key);
        expectEnvelope(res, "VALIDATION_ERROR");
        expect(res.body.error.details[0].in).toBe("body");
      }
    }
  });

  if (route.method !== "GET") {
    it("never answers 500 to arbitrary JSON bodies", async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (body) => {
          const res = await send(route, "", { ...(await rc.valid(ownFixture)), body }, own.key);
          expect(res.status === 501 || res.status < 500).toBe(true);
          expect(res.headers.get("x-request-id")).toBeTruthy();
        }),
        { numRuns: 25 },
      );
    });
  }
});
