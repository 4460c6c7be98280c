import type { Hono } from "hono";
import {
  type EmulatorEnv,
  handle,
  type OperationResult,
  readCreatedFilter,
  readListParams,
} from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import type { OperationContext } from "../operation-context.ts";
import type { Params } from "../params.ts";
import {
  type ConfirmOutcome,
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  listPaymentIntents,
  retrievePaymentIntent,
} from "../resources/payment-intents.ts";
import { checkCardOnly } from "./card-only.ts";

/** A decline answers 402 with Stripe's card error; the intent it carries is already stored. */
const respond = async (
  ctx: OperationContext,
  outcome: ConfirmOutcome,
  p: Params,
): Promise<OperationResult> =>
  outcome.error
    ? { status: 402, body: { error: outcome.error } }
    : expandObject(ctx, outcome.intent, p.expand());

/** `off_session` is `true`, or Stripe's `one_off` / `recurring`; all mean "customer absent". */
const readOffSession = (p: Params): boolean | undefined => {
  if (p.string("off_session") === "one_off" || p.string("off_session") === "recurring") return true;
  return p.boolean("off_session");
};

export const registerPaymentIntentRoutes = (app: Hono<EmulatorEnv>) => {
  app.post("/v1/payment_intents", (c) =>
    handle(c, async (ctx, p) => {
      p.only(
        "amount",
        "currency",
        "customer",
        "payment_method",
        "confirm",
        "off_session",
        "description",
        "metadata",
        "payment_method_types",
        "return_url",
        "expand",
      );
      checkCardOnly(p);
      const outcome = await createPaymentIntent(ctx, {
        amount: p.requiredInteger("amount"),
        currency: p.requiredString("currency"),
        customer: p.string("customer") ?? undefined,
        paymentMethod: p.string("payment_method") ?? undefined,
        confirm: p.boolean("confirm"),
        offSession: readOffSession(p),
        description: p.string("description"),
        metadata: p.metadata(),
      });
      return respond(ctx, outcome, p);
    }),
  );

  app.get("/v1/payment_intents", (c) =>
    handle(c, async (ctx, p) => {
      p.only("customer", "created", "limit", "starting_after", "ending_before", "expand");
      const list = await listPaymentIntents(ctx, {
        ...readListParams(p),
        customer: p.string("customer") ?? undefined,
        created: readCreatedFilter(p),
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/payment_intents/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("client_secret", "expand");
      return expandObject(ctx, await retrievePaymentIntent(ctx, c.req.param("id")), p.expand());
    }),
  );

  app.post("/v1/payment_intents/:id/confirm", (c) =>
    handle(c, async (ctx, p) => {
      p.only("payment_method", "off_session", "return_url", "expand");
      readOffSession(p);
      const outcome = await confirmPaymentIntent(ctx, c.req.param("id"), {
        paymentMethod: p.string("payment_method") ?? undefined,
      });
      return respond(ctx, outcome, p);
    }),
  );

  app.post("/v1/payment_intents/:id/cancel", (c) =>
    handle(c, async (ctx, p) => {
      p.only("cancellation_reason", "expand");
      const intent = await cancelPaymentIntent(ctx, c.req.param("id"), {
        cancellationReason: p.oneOf("cancellation_reason", [
          "abandoned",
          "duplicate",
          "fraudulent",
          "requested_by_customer",
        ] as const),
      });
      return expandObject(ctx, intent, p.expand());
    }),
  );
};
