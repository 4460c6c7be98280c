/** @jsxImportSource hono/jsx */
import type { PlatformListing } from "../../services/console/platform-directory.ts";
import type { Page } from "../../services/pagination.ts";
import { day, Layout, Money, type PageContext, Status } from "./layout.tsx";

export const PlatformsPage = ({
  page,
  q,
  list,
}: {
  page: PageContext;
  q: string;
  list: Page<PlatformListing>;
}) => (
  <Layout title="Platforms" active="platforms" page={page}>
    <h1>Platforms</h1>
    <form method="get" action="/console/platforms" class="inline">
      <label for="q">
        Search id, name or email
        <input id="q" name="q" type="search" value={q} maxlength={200} />
      </label>
      <button type="submit">Search</button>
    </form>
    <div class="scroll">
      <table data-testid="platforms">
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Tier</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              MRR
            </th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data.map((p) => (
            <tr>
              <td>
                <a href={`/console/platforms/${encodeURIComponent(p.platformId)}`}>
                  {p.platformId}
                </a>
              </td>
              <td>{p.name}</td>
              <td>{p.email}</td>
              <td>{p.tier ?? ""}</td>
              <td>
                <Status value={p.status} />
              </td>
              <td class="num">
                {p.currency ? <Money amount={p.mrr} currency={p.currency} /> : ""}
              </td>
              <td>{day(p.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {list.data.length === 0 ? <p class="muted">No platform matches.</p> : null}
    <nav class="pager" aria-label="Pages">
      <a href={`/console/platforms${q ? `?q=${encodeURIComponent(q)}` : ""}`}>First page</a>
      {list.nextCursor ? (
        <a
          rel="next"
          href={`/console/platforms?${new URLSearchParams({ ...(q ? { q } : {}), cursor: list.nextCursor })}`}
        >
          Next page
        </a>
      ) : null}
    </nav>
  </Layout>
);
