/** @jsxImportSource hono/jsx */
import { FieldError, Layout, type PageContext } from "./layout.tsx";

export const SignInPage = ({ page, error }: { page: PageContext; error?: string }) => (
  <Layout title="Sign in" page={page}>
    <h1>Operator console</h1>
    <p class="muted">
      Sign in with the operator key. It is exchanged for a session; the browser never keeps the key.
    </p>
    <form method="post" action="/console/sign-in" class="stack">
      <label for="key">
        Operator key
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="current-password"
          required
          maxlength={512}
          aria-describedby={error ? "key-error" : undefined}
          aria-invalid={error ? "true" : undefined}
        />
      </label>
      <FieldError id="key-error" message={error} />
      <button type="submit">Sign in</button>
    </form>
  </Layout>
);
