/** @jsxImportSource hono/jsx */
import type { WebhookEndpointObject } from "../../services/events/catalog.ts";
import type { Event } from "../../services/events/queries.ts";
import type { Page } from "../../services/pagination.ts";
import type { WebhookAttempt } from "../../services/webhooks/redeliver.ts";
import { ActionForm, errorsFor, Field, FormMessage, type FormProblem } from "./fields.tsx";
import { day, FormGuard, instant, Layout, type PageContext } from "./layout.tsx";

export const eventPath = (eventId: string) => `/console/events/${encodeURIComponent(eventId)}`;

/** A platform's latest events, newest first, a page at a time (`?eventsCursor=`). */
export const EventsSection = ({
  base,
  events,
}: {
  /** The platform page's path. */
  base: string;
  events: Page<Event>;
}) => (
  <>
    <h2 id="events">Events</h2>
    {events.data.length === 0 ? (
      <p class="muted">No events.</p>
    ) : (
      <div class="scroll">
        <table data-testid="events">
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Created</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((e) => (
              <tr data-event={e.id}>
                <td>{e.type}</td>
                <td>{instant(e.createdAt)}</td>
                <td>
                  <a href={eventPath(e.id)}>{e.id}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
    <nav class="pager" aria-label="Event pages">
      <a href={`${base}#events`}>Latest events</a>
      {events.nextCursor ? (
        <a
          rel="next"
          href={`${base}?${new URLSearchParams({ eventsCursor: events.nextCursor })}#events`}
        >
          Older events
        </a>
      ) : null}
    </nav>
  </>
);

/** One event: its payload as JSON, pretty-printed (and escaped by the renderer). */
export const EventPage = ({ page, event }: { page: PageContext; event: Event }) => (
  <Layout title={`Event ${event.id}`} active="platforms" page={page}>
    <h1>
      {event.type} <span class="muted">{event.id}</span>
    </h1>
    <dl class="facts">
      <dt>Created</dt>
      <dd>{instant(event.createdAt)}</dd>
      <dt>Platform</dt>
      <dd>
        {event.platformId ? (
          <a href={`/console/platforms/${encodeURIComponent(event.platformId)}#events`}>
            {event.platformId}
          </a>
        ) : (
          <span class="muted">the operator's</span>
        )}
      </dd>
    </dl>
    <h2>Payload</h2>
    <pre class="scroll" data-testid="event-json">
      <code>{JSON.stringify(event, null, 2)}</code>
    </pre>
  </Layout>
);

export interface EndpointView {
  endpoint: WebhookEndpointObject;
  attempts: Page<WebhookAttempt>;
}

/** The platform's webhook endpoints, their actions and their latest delivery attempts. */
export const WebhooksSection = ({
  page,
  base,
  endpoints,
  problem,
  newSecret,
}: {
  page: PageContext;
  base: string;
  endpoints: EndpointView[];
  problem: FormProblem | undefined;
  newSecret: { endpointId: string; secret: string } | undefined;
}) => {
  const create = errorsFor(problem, "webhook");
  return (
    <>
      <h2 id="webhooks">Webhook endpoints</h2>
      {newSecret ? (
        <div class="notice" role="status" data-testid="new-webhook-secret">
          <p>
            Signing secret of <code>{newSecret.endpointId}</code>. Copy it now: it is shown only
            this once.
          </p>
          <p class="secret">{newSecret.secret}</p>
        </div>
      ) : null}
      <form method="post" action={`${base}/webhooks`} class="inline">
        <FormGuard page={page} />
        <Field
          form="webhook"
          name="url"
          label="URL"
          problem={create}
          type="url"
          maxlength={2048}
          required
        />
        <Field
          form="webhook"
          name="enabledEvents"
          label="Enabled events (comma-separated, * for all)"
          problem={create}
          value="*"
          maxlength={4000}
          required
        />
        <Field
          form="webhook"
          name="description"
          label="Endpoint note (optional)"
          problem={create}
          maxlength={500}
        />
        <button type="submit">Add endpoint</button>
        <FormMessage problem={create} />
      </form>
      <FormMessage problem={errorsFor(problem, "webhook-action")} />
      {endpoints.length === 0 ? <p class="muted">No webhook endpoints.</p> : null}
      {endpoints.map(({ endpoint: e, attempts }) => {
        const path = `${base}/webhooks/${encodeURIComponent(e.id)}`;
        return (
          <section class="card" data-endpoint={e.id}>
            <dl class="facts">
              <dt>URL</dt>
              <dd>
                <code>{e.url}</code>
              </dd>
              <dt>Id</dt>
              <dd>{e.id}</dd>
              <dt>Events</dt>
              <dd>{e.enabledEvents.join(", ")}</dd>
              {e.description ? (
                <>
                  <dt>Description</dt>
                  <dd>{e.description}</dd>
                </>
              ) : null}
              <dt>State</dt>
              <dd data-testid="endpoint-state">{e.disabled ? "disabled" : "enabled"}</dd>
              <dt>Created</dt>
              <dd>{day(e.createdAt)}</dd>
            </dl>
            <div class="actions">
              <ActionForm
                page={page}
                action={`${path}/${e.disabled ? "enable" : "disable"}`}
                label={e.disabled ? "Enable" : "Disable"}
                ariaLabel={`${e.disabled ? "Enable" : "Disable"} ${e.id}`}
              />
              <ActionForm
                page={page}
                action={`${path}/ping`}
                label="Send test ping"
                ariaLabel={`Send test ping to ${e.id}`}
              />
              <ActionForm
                page={page}
                action={`${path}/rotate`}
                label="Rotate secret"
                ariaLabel={`Rotate the secret of ${e.id}`}
                confirm="Rotate the signing secret? The old one keeps signing for 24 hours."
              />
              <ActionForm
                page={page}
                action={`${path}/delete`}
                label="Delete"
                kind="danger"
                ariaLabel={`Delete ${e.id}`}
                confirm="Delete this endpoint? Its pending deliveries are dropped."
              />
            </div>
            <h3>Latest deliveries</h3>
            {attempts.data.length === 0 ? (
              <p class="muted">No delivery attempts yet.</p>
            ) : (
              <div class="scroll">
                <table data-testid="deliveries">
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Event</th>
                      <th scope="col" class="num">
                        Status code
                      </th>
                      <th scope="col" class="num">
                        Duration
                      </th>
                      <th scope="col">Error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {attempts.data.map((a) => (
                      <tr>
                        <td>{instant(a.createdAt)}</td>
                        <td>
                          <a href={eventPath(a.eventId)}>{a.eventType}</a>
                        </td>
                        <td class="num">{a.statusCode ?? "none"}</td>
                        <td class="num">{a.durationMs} ms</td>
                        <td>{a.error ?? (a.succeeded ? "" : "failed")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </>
  );
};
