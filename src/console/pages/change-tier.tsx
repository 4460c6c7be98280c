/** @jsxImportSource hono/jsx */
import type { ProrationPreview } from "../../services/subscriptions/change.ts";
import { FormGuard, instant, Layout, Money, type PageContext } from "./layout.tsx";

/** The proration preview, shown before the change; confirming posts the change itself. */
export const ChangeTierPage = ({
  page,
  platformId,
  preview,
}: {
  page: PageContext;
  platformId: string;
  preview: ProrationPreview;
}) => {
  const base = `/console/platforms/${encodeURIComponent(platformId)}`;
  return (
    <Layout title="Change tier" active="platforms" page={page}>
      <h1>
        Change {platformId} from {preview.currentTier} to {preview.newTier}
      </h1>
      <p>
        Prorated at {instant(preview.prorationDate)} for the rest of the period (ends{" "}
        {instant(preview.periodEnd)}).
      </p>
      <div class="scroll">
        <table data-testid="preview">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col" class="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {preview.lines.map((l) => (
              <tr>
                <td>{l.description}</td>
                <td class="num">
                  <Money amount={l.amount} currency={preview.currency} />
                </td>
              </tr>
            ))}
            <tr>
              <th scope="row">{preview.net >= 0 ? "Charged now" : "Credited to the balance"}</th>
              <td class="num" data-testid="net">
                <Money amount={preview.net} currency={preview.currency} />
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <form method="post" action={`${base}/change-tier`} class="inline">
        <FormGuard page={page} />
        <input type="hidden" name="tier" value={preview.newTier} />
        <button type="submit">Confirm the change to {preview.newTier}</button>
        <a href={base}>Back</a>
      </form>
    </Layout>
  );
};
