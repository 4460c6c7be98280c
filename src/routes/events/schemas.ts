import { z } from "@hono/zod-openapi";
import { eventTypes } from "../../services/events/catalog.ts";
import { Id } from "../schemas.ts";

const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-25T18:00:00.000Z" });

export const EventTypeSchema = z.enum(eventTypes as [string, ...string[]]).openapi("EventType");

export const EventSchema = z
  .object({
    id: z.string().openapi({ example: "evt_01jd4x3v6dfz8r9m2k7q5w1n0c" }),
    type: z.string().openapi({ example: "invoice.paid" }),
    createdAt: Timestamp,
    platformId: z.string().nullable(),
    data: z.object({
      object: z
        .record(z.string(), z.unknown())
        .openapi({ description: "the object exactly as the API returns it" }),
    }),
    previousAttributes: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "subscription.updated: the changed attributes' old values" }),
  })
  .openapi("Event");

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: "we_01jd4x3v6dfz8r9m2k7q5w1n0c" }),
    platformId: z.string().nullable().openapi({ description: "null: an operator endpoint" }),
    url: z.string().openapi({ example: "https://hooks.acme.example/billing" }),
    enabledEvents: z.array(z.string()).openapi({ example: ["invoice.paid"] }),
    description: z.string().nullable(),
    disabled: z.boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("WebhookEndpoint");

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({
    description: "the signing secret, shown once",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
}).openapi("WebhookEndpointWithSecret");

export const EnabledEvents = z
  .array(z.union([EventTypeSchema, z.literal("*")]))
  .min(1)
  .max(64)
  .openapi({ description: 'event types to receive, or ["*"] for all', example: ["invoice.paid"] });

export const WebhookUrl = z
  .string()
  .min(1)
  .max(2048)
  .openapi({ example: "https://hooks.acme.example/billing" });

export const WebhookAttemptSchema = z
  .object({
    id: z.string(),
    deliveryId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    attempt: z.number().int(),
    succeeded: z.boolean(),
    statusCode: z.number().int().nullable(),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    responseExcerpt: z
      .string()
      .nullable()
      .openapi({ description: "the first 1 KiB of the response" }),
    createdAt: Timestamp,
  })
  .openapi("WebhookAttempt");

export const EndpointParam = z.object({ id: Id.openapi({ param: { name: "id", in: "path" } }) });
