import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { API_PREFIX } from "../../../src/app.ts";
import { createBillingRouter, createOpenApiDocument } from "../../../src/routes/index.ts";
import { useTestApp } from "../../../test/harness.ts";
import { type BillingErrorCode, createBillingClient, type Schemas } from "./index.ts";

/**
 * The generated client against the service itself, over HTTP on a random port: every call is
 * typed by the service's own /openapi.json (tsc checks this file in `npm test`), and what comes
 * back is what the types say.
 */
const t = await useTestApp();
let server: Server;
let base: string;

beforeAll(async () => {
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(s as Server),
    );
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("the document the client is generated from", () => {
  it("is the one the running service serves", async () => {
    // `npm run client:generate` builds it in process; CI's `client:check` keeps the types current.
    const built = createOpenApiDocument(createBillingRouter(), ["/", API_PREFIX]);
    for (const path of ["/openapi.json", "/api/billing/openapi.json"]) {
      const served = await (await fetch(`${base}${path}`)).json();
      expect(served).toEqual(JSON.parse(JSON.stringify(built)));
    }
  });
});

describe.each(["", "/api/billing"])("the typed client at '%s'", (prefix) => {
  it("creates a customer as the operator", async () => {
    const operator = createBillingClient({ baseUrl: `${base}${prefix}`, apiKey: t.operatorKey });
    const email = `client-${Date.now()}-${prefix.length}@example.com`;
    const { data, error, response } = await operator.POST("/customers", {
      body: { email, name: "Typed", metadata: { source: "client" } },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(201);
    expectTypeOf(data).toEqualTypeOf<Schemas["Customer"] | undefined>();
    expect(data).toMatchObject({ email, name: "Typed", metadata: { source: "client" } });
    expect(data?.id).toMatch(/^cus_/);

    const read = await operator.GET("/customers/{id}", {
      params: { path: { id: data?.id ?? "" } },
    });
    expect(read.data?.email).toBe(email);
  });

  it("lists plans and reads a subscription with a platform key", async () => {
    const platform = await t.createPlatform();
    const client = createBillingClient({ baseUrl: `${base}${prefix}`, apiKey: platform.key });

    const plans = await client.GET("/plans");
    expect(plans.response.status).toBe(200);
    expectTypeOf(plans.data).toEqualTypeOf<Schemas["PlanList"] | undefined>();
    expect(plans.data?.data.map((p) => p.tier)).toEqual(["starter", "growth", "scale"]);
    expect(plans.data).toMatchObject({ hasMore: false, nextCursor: null });

    const created = await client.POST("/subscriptions", {
      body: {
        userId: platform.platformId,
        priceId: "price_growth_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    const id = created.data?.id ?? "";

    const byId = await client.GET("/subscriptions/{id}", { params: { path: { id } } });
    expectTypeOf(byId.data).toEqualTypeOf<Schemas["Subscription"] | undefined>();
    expect(byId.data).toMatchObject({ id, tier: "growth", status: "active" });

    const current = await client.GET("/subscription", {
      params: { query: { platformId: platform.platformId } },
    });
    expect(current.data?.id).toBe(id);

    const listed = await client.GET("/customers/{id}/subscriptions", {
      params: { path: { id: platform.customerId }, query: { limit: 1 } },
    });
    expect(listed.data).toEqual({ data: [byId.data], hasMore: false, nextCursor: null });
  });

  it("answers errors as typed error bodies", async () => {
    const platform = await t.createPlatform();
    const client = createBillingClient({ baseUrl: `${base}${prefix}`, apiKey: platform.key });

    const missing = await client.GET("/subscriptions/{id}", {
      params: { path: { id: "sub_does_not_exist" } },
    });
    expect(missing.data).toBeUndefined();
    expect(missing.response.status).toBe(404);
    expectTypeOf(missing.error?.error.code).toEqualTypeOf<BillingErrorCode | undefined>();
    expect(missing.error?.error).toMatchObject({
      code: "NOT_FOUND",
      requestId: missing.response.headers.get("x-request-id"),
    });

    const invalid = await client.POST("/subscription/change-tier", {
      // @ts-expect-error: not a tier; the types refuse it, the service too
      body: { tier: "platinum" },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error?.error.code).toBe("VALIDATION_ERROR");
    expect(Array.isArray(invalid.error?.error.details)).toBe(true);

    const operatorOnly = await client.GET("/operator/overview");
    expect(operatorOnly.response.status).toBe(403);
    expect(operatorOnly.error?.error.code).toBe("FORBIDDEN");

    const anonymous = createBillingClient({
      baseUrl: `${base}${prefix}`,
      apiKey: "nno_sk_unknown",
    });
    const refused = await anonymous.GET("/plans");
    expect(refused.response.status).toBe(401);
    expect(refused.error?.error.code).toBe("UNAUTHORIZED");
  });
});
