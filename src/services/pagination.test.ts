import { describe, expect, it } from "vitest";
import { type TestResponse, useTestApp } from "../../test/harness.ts";
import { jobFailures } from "../db/schema/index.ts";

/**
 * The lists that can grow page with the same cursor as every other list (`limit`, then the
 * `nextCursor` of the previous page), newest first, and walking the pages gives every item once,
 * in the order one large page gives them. The shape of every list is checked over the whole
 * route table in `contract.test.ts`.
 */
const t = await useTestApp();

/** Follows `nextCursor` from the first page to the last, `limit` items at a time. */
const walk = async (path: string, limit: number, key?: string) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const res: TestResponse = await t.request(
      "GET",
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      key === undefined ? {} : { key },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    expect(res.body.hasMore).toBe(res.body.nextCursor !== null);
    for (const item of res.body.data as Array<{ id?: string; job?: string; itemId?: string }>) {
      ids.push(item.id ?? `${item.job}:${item.itemId}`);
    }
    cursor = res.body.nextCursor;
    pages += 1;
  } while (cursor !== null);
  return { ids, pages };
};

/** The list in one page of 100: what the walk must reproduce. */
const onePage = async (path: string, key?: string) => (await walk(path, 100, key)).ids;

describe("GET /customers/{id}/subscriptions", () => {
  it("pages a customer's subscriptions newest first", async () => {
    const p = await t.createPlatform();
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.request("POST", "/subscriptions", {
        key: p.key,
        body: {
          userId: p.platformId,
          priceId: "price_starter_monthly",
          paymentMethodId: "pm_card_visa",
        },
      });
      expect(res.status, res.text).toBe(201);
      created.push(res.body.id);
      const ended = await t.request("DELETE", `/subscriptions/${res.body.id}?immediately=true`, {
        key: p.key,
      });
      expect(ended.status, ended.text).toBe(200);
      t.clock.advance(60_000);
    }
    const path = `/customers/${p.customerId}/subscriptions`;
    const all = await onePage(path, p.key);
    expect(all).toEqual([...created].reverse());
    const walked = await walk(path, 2, p.key);
    expect(walked).toEqual({ ids: all, pages: 2 });
  });
});

describe("GET /operator/api-keys", () => {
  it("pages the ingestion keys newest first, keys created in the same instant included", async () => {
    const created: string[] = [];
    for (const advance of [0, 1_000, 0, 1_000, 0]) {
      t.clock.advance(advance);
      const res = await t.request("POST", "/operator/api-keys", {
        body: { scopes: ["usage:write"] },
      });
      expect(res.status, res.text).toBe(201);
      created.push(res.body.id);
    }
    const all = await onePage("/operator/api-keys");
    expect(all).toHaveLength(5);
    expect(new Set(all)).toEqual(new Set(created));
    // Newest first (keys of the same instant in descending id order, as the cursor walks them).
    const createdAt = (await t.request("GET", "/operator/api-keys?limit=100")).body.data.map(
      (k: { createdAt: string }) => k.createdAt,
    );
    expect(createdAt).toEqual([...createdAt].sort().reverse());
    for (const limit of [1, 2, 3]) {
      const walked = await walk("/operator/api-keys", limit);
      expect(walked.ids).toEqual(all);
      expect(walked.pages).toBe(Math.ceil(5 / limit));
    }
  });
});

describe("GET /operator/failures", () => {
  it("pages failing items by their latest failure, ties included", async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 10, 0, minute));
    const rows = [
      ["renewal", "sub_a", 1],
      ["renewal", "sub_b", 3],
      ["collection", "in_c", 3],
      ["usage", "plat:with:colons", 2],
      ["collection", "in_e", 5],
    ] as const;
    await t.database.db.insert(jobFailures).values(
      rows.map(([job, itemId, minute]) => ({
        job,
        itemId,
        platformId: null,
        error: "Error: boom",
        attempts: 1,
        firstFailedAt: at(0),
        lastFailedAt: at(minute),
        nextRetryAt: at(minute + 1),
      })),
    );
    const all = await onePage("/operator/failures");
    expect(all).toEqual([
      "collection:in_e",
      "renewal:sub_b",
      "collection:in_c",
      "usage:plat:with:colons",
      "renewal:sub_a",
    ]);
    for (const limit of [1, 2, 4]) {
      expect((await walk("/operator/failures", limit)).ids).toEqual(all);
    }
  });
});

/**
 * Lists read by prepared statements (`preparedRead`): the first page's position is a placeholder
 * too (`infinity`), so walking them checks that position and the ties after it.
 */
describe("prepared page reads", () => {
  it("page a customer's payment methods attached in the same instant, with and without a type", async () => {
    const p = await t.createPlatform();
    for (const advance of [0, 0, 1_000, 0, 0]) {
      t.clock.advance(advance);
      const res = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
        key: p.key,
        body: { customerId: p.customerId },
      });
      expect(res.status, res.text).toBe(200);
    }
    for (const path of [
      "/payment-methods",
      `/customers/${p.customerId}/payment-methods`,
      `/customers/${p.customerId}/payment-methods?type=card`,
    ]) {
      const all = await onePage(path, p.key);
      expect(all).toHaveLength(5);
      expect(new Set(all).size).toBe(5);
      for (const limit of [1, 2, 4]) {
        expect((await walk(path, limit, p.key)).ids).toEqual(all);
      }
    }
  });

  it("page one platform's events of a type, events of the same instant included", async () => {
    const p = await t.createPlatform();
    for (let i = 0; i < 5; i++) {
      const res = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
        key: p.key,
        body: { customerId: p.customerId },
      });
      expect(res.status, res.text).toBe(200);
    }
    const path = `/events?platformId=${p.platformId}&type=payment_method.attached`;
    const all = await onePage(path);
    expect(all).toHaveLength(5);
    for (const limit of [1, 2, 3]) {
      expect((await walk(path, limit)).ids).toEqual(all);
    }
    // Another type of the same platform, and the platform's own key, see the same pages.
    expect(await onePage(`/events?platformId=${p.platformId}&type=customer.created`)).toHaveLength(
      1,
    );
    expect((await walk("/events?type=payment_method.attached", 2, p.key)).ids).toEqual(all);
  });
});

describe("GET /webhook-endpoints", () => {
  it("pages the operator's endpoints and a platform's apart, ties included", async () => {
    const p = await t.createPlatform();
    const create = async (key?: string) => {
      const res = await t.request("POST", "/webhook-endpoints", {
        ...(key === undefined ? {} : { key }),
        body: { url: "http://127.0.0.1:9/hooks", enabledEvents: ["*"] },
      });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    const operators = [await create(), await create(), await create()];
    const platforms = [await create(p.key), await create(p.key), await create(p.key)];
    const ofOperator = await onePage("/webhook-endpoints");
    expect([...ofOperator].sort()).toEqual([...operators].sort());
    expect([...(await onePage("/webhook-endpoints", p.key))].sort()).toEqual([...platforms].sort());
    for (const limit of [1, 2]) {
      expect((await walk("/webhook-endpoints", limit)).ids).toEqual(ofOperator);
      expect((await walk("/webhook-endpoints", limit, p.key)).ids).toEqual(
        await onePage("/webhook-endpoints", p.key),
      );
    }
  });
});
