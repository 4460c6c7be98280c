import { eq } from "drizzle-orm";
import { paymentMethods, processorEvents } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { resyncCustomer } from "./payment-methods.ts";

const resyncedTypes = ["customer.", "payment_method.", "setup_intent."];

/** The customer an event is about, whatever kind of object it carries. */
const customerOf = (object: Record<string, unknown>): string | null => {
  if (object.object === "customer" && typeof object.id === "string") return object.id;
  const customer = object.customer;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && "id" in customer) {
    return String((customer as { id: unknown }).id);
  }
  return null;
};

/**
 * Applies one processor webhook: verified against the raw body, applied at most once (its id is
 * recorded), and resolved by re-reading the objects it concerns rather than trusting its
 * payload, so late or reordered events cannot roll the local view back.
 */
export const receiveProcessorWebhook = async ({
  ctx,
  input: { rawBody, signature },
}: {
  ctx: ServiceContext;
  input: { rawBody: string; signature: string | undefined };
}): Promise<{ id: string; type: string; duplicate: boolean }> => {
  if (!signature) throw new AppError("VALIDATION_ERROR", "missing Stripe-Signature header");
  let event: ReturnType<ServiceContext["processor"]["constructWebhookEvent"]>;
  try {
    event = ctx.processor.constructWebhookEvent(
      rawBody,
      signature,
      (ctx.webhookClock ?? ctx.clock).now(),
    );
  } catch (error) {
    throw new AppError(
      "VALIDATION_ERROR",
      `webhook signature rejected: ${(error as Error).message}`,
    );
  }
  // Signed is not well-formed: an event without its id, type or object is refused, not guessed at.
  const shape = event as unknown as { id?: unknown; type?: unknown; data?: { object?: unknown } };
  if (
    typeof shape.id !== "string" ||
    shape.id.length === 0 ||
    shape.id.length > 255 ||
    typeof shape.type !== "string" ||
    typeof shape.data?.object !== "object" ||
    shape.data.object === null
  ) {
    throw new AppError("VALIDATION_ERROR", "the event has no id, type or data.object");
  }
  const [seen] = await ctx.db
    .select({ id: processorEvents.id })
    .from(processorEvents)
    .where(eq(processorEvents.id, event.id));
  if (seen) return { id: event.id, type: event.type, duplicate: true };

  const object = event.data.object as unknown as Record<string, unknown>;
  // Only events about customers and their payment methods change the local view; payment
  // intents are settled by the collector that created them.
  if (resyncedTypes.some((prefix) => event.type.startsWith(prefix))) {
    const customerId =
      customerOf(object) ??
      (object.object === "payment_method" && typeof object.id === "string"
        ? await localCustomerOfPaymentMethod(ctx, object.id) // a detached method names no customer
        : null);
    if (customerId && event.type !== "customer.deleted")
      await resyncCustomer({ ctx, input: { customerId } });
  }

  const inserted = await ctx.db
    .insert(processorEvents)
    .values({
      id: event.id,
      type: event.type,
      objectId: typeof object.id === "string" ? object.id : null,
      receivedAt: ctx.clock.now(),
    })
    .onConflictDoNothing()
    .returning({ id: processorEvents.id });
  return { id: event.id, type: event.type, duplicate: inserted.length === 0 };
};

const localCustomerOfPaymentMethod = async (ctx: ServiceContext, paymentMethodId: string) => {
  const [row] = await ctx.db
    .select({ customerId: paymentMethods.customerId })
    .from(paymentMethods)
    .where(eq(paymentMethods.id, paymentMethodId));
  return row?.customerId ?? null;
};
