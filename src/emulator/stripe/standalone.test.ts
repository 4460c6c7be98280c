import { type ChildProcess, spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import pino from "pino";
import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { stripeError } from "../../../test/stripe-emulator-kit.ts";
import { createTestDatabase } from "../../../test/test-database.ts";
import { systemClock } from "../../clock.ts";
import { StandaloneConfigError, startStandaloneEmulator } from "./standalone.ts";

const SECRET = "whsec_standalone_test";

/** A real webhook endpoint on a loopback port, recording what it receives. */
const received: Array<{ body: string; signature: string }> = [];
const receiver = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        received.push({
          body: await request.text(),
          signature: request.headers.get("stripe-signature") ?? "",
        });
        return new Response("ok");
      },
    },
    () => resolve(s),
  );
});
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`;

const logLines: string[] = [];
const logger = pino(
  { level: "info" },
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

const database = await createTestDatabase();
const running = await startStandaloneEmulator({
  env: {
    STRIPE_EMULATOR_PORT: "0",
    STRIPE_EMULATOR_WEBHOOK_URL: receiverUrl,
    STRIPE_WEBHOOK_SECRET: SECRET,
  },
  clock: systemClock,
  database,
  logger,
});

afterAll(async () => {
  await running.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await database.close();
});

/** The official SDK pointed at the emulator the way any client would be: host, port, http. */
const sdk = (port: number) =>
  new Stripe("sk_test_standalone", {
    apiVersion: Stripe.API_VERSION,
    host: "127.0.0.1",
    port,
    protocol: "http",
    maxNetworkRetries: 0,
  });

describe("standalone emulator", () => {
  it("listens on a loopback port and says where in one log line", () => {
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    const line = logLines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg?.startsWith("stripe emulator"));
    expect(line?.msg).toBe(`stripe emulator listening on http://127.0.0.1:${running.port}`);
  });

  it("serves the SDK over HTTP: customers, cards, charges, declines and the portal", async () => {
    const stripe = sdk(running.port);
    const customer = await stripe.customers.create({ email: "standalone@example.com" });
    const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm.id },
    });
    const paid = await stripe.paymentIntents.create({
      amount: 2000,
      currency: "usd",
      customer: customer.id,
      confirm: true,
      off_session: true,
    });
    expect(paid.status).toBe("succeeded");

    const declining = await stripe.paymentMethods.attach(
      "pm_card_chargeDeclinedInsufficientFunds",
      {
        customer: customer.id,
      },
    );
    const declined = await stripeError(() =>
      stripe.paymentIntents.create({
        amount: 2000,
        currency: "usd",
        customer: customer.id,
        payment_method: declining.id,
        confirm: true,
        off_session: true,
      }),
    );
    expect(declined).toMatchObject({ statusCode: 402, decline_code: "insufficient_funds" });

    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    expect(session.url).toBe(`${running.url}/portal/${session.id}`);
    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Visa •••• 4242");
  });

  it("delivers signed webhooks to the configured URL in the background", async () => {
    const stripe = sdk(running.port);
    const customer = await stripe.customers.create({ email: "webhook-standalone@example.com" });
    const deadline = 5000 / 25;
    const mine = () =>
      received
        .map((r) => stripe.webhooks.constructEvent(r.body, r.signature, SECRET))
        .filter((e) => (e.data.object as { id?: string }).id === customer.id);
    for (let i = 0; i < deadline && mine().length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(mine().map((e) => e.type)).toEqual(["customer.created"]);
  });
});

describe("STRIPE_EMULATOR_RATE_LIMIT", () => {
  it("answers writes above the rate with 429 rate_limit over HTTP, and reads as usual", async () => {
    const limited = await startStandaloneEmulator({
      env: { STRIPE_EMULATOR_PORT: "0", STRIPE_EMULATOR_RATE_LIMIT: "1" },
      clock: systemClock,
      database,
      logger: pino({ level: "silent" }),
    });
    try {
      const stripe = sdk(limited.port);
      const customer = await stripe.customers.create({ email: "limited@example.com" });
      // One write per second: the next one, sent at once, is over the limit.
      const refused = await stripeError(() => stripe.customers.update(customer.id, { name: "x" }));
      expect(refused).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
      expect(refused).toMatchObject({ statusCode: 429, code: "rate_limit" });
      expect(refused.headers?.["stripe-rate-limited-reason"]).toBe("global-rate");
      expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
    } finally {
      await limited.close();
    }
  });
});

describe("standalone configuration", () => {
  it.each([
    ["STRIPE_EMULATOR_RATE_LIMIT", "-3"],
    ["STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS", "0"],
  ])("stops start-up on a bad %s, naming it", async (variable, value) => {
    const start = startStandaloneEmulator({
      env: { [variable]: value },
      clock: systemClock,
      database,
    });
    await expect(start).rejects.toThrow(StandaloneConfigError);
    await expect(start).rejects.toThrow(variable);
  });
});

describe("npm run emulator", () => {
  it("starts main.ts as a process that serves the SDK", async () => {
    const main = fileURLToPath(new URL("./main.ts", import.meta.url));
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ["--import", "tsx", main], {
        env: {
          ...process.env,
          DATABASE_URL: "memory://",
          STRIPE_EMULATOR_PORT: "0",
          LOG_LEVEL: "info",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const port = await new Promise<number>((resolve, reject) => {
        let output = "";
        const timer = setTimeout(
          () => reject(new Error(`no listening line in: ${output}`)),
          30_000,
        );
        child?.stdout?.on("data", (chunk) => {
          output += String(chunk);
          const match = /stripe emulator listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
        child?.stderr?.on("data", (chunk) => {
          output += String(chunk);
        });
        child?.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const customer = await sdk(port).customers.create({ email: "process@example.com" });
      expect(customer.id).toMatch(/^cus_/);
      expect((await sdk(port).customers.retrieve(customer.id)).id).toBe(customer.id);
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    }
  });
});
