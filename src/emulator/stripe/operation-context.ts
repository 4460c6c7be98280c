import type { Tx } from "../../db/client.ts";
import type { StripeObject } from "./store.ts";

/**
 * What one emulator operation runs with: the transaction every write of the request shares
 * (objects, events and the idempotent response commit together), the request's instant, and
 * the request identity that events record in `request: { id, idempotency_key }`.
 */
export interface OperationContext {
  tx: Tx;
  now: Date;
  requestId: string | null;
  idempotencyKey: string | null;
  /** Whether a webhook endpoint is configured: events made now are queued for delivery. */
  webhooksEnabled: boolean;
  /**
   * The request's instant on the webhook delivery clock (`deliveryClock`): when an event made now
   * is queued. It is `now` except while the service runs a test clock, whose jumps move `now`
   * (and so every object's and event's `created`) but not delivery, which runs in real time.
   */
  queuedAt: Date;
  apiVersion: string;
  /**
   * Objects this operation has read with `prefetchObjects` or written since, by id: an
   * operation that needs several objects reads them in one statement (see store.ts).
   */
  objects?: Map<string, StripeObject>;
}
