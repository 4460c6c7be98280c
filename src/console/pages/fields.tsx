/** @jsxImportSource hono/jsx */
import { FieldError, FormGuard, type PageContext } from "./layout.tsx";

/** A form of a page the service refused, with its messages per field. */
export interface FormProblem {
  /** Which form on the page was refused. */
  form: string;
  message: string;
  fields: Record<string, string>;
}

export const errorsFor = (problem: FormProblem | undefined, form: string) =>
  problem?.form === form ? problem : undefined;

/** A labelled input with its error (from the API's validation) beside it. */
export const Field = ({
  form,
  name,
  label,
  problem,
  ...input
}: {
  form: string;
  name: string;
  label: string;
  problem: FormProblem | undefined;
  type?: string;
  value?: string;
  required?: boolean;
  step?: string;
  min?: string;
  maxlength?: number;
  inputmode?: "decimal" | "numeric";
}) => {
  const id = `${form}-${name}`;
  const message = problem?.fields[name];
  return (
    <label for={id}>
      {label}
      <input
        id={id}
        name={name}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        {...input}
      />
      <FieldError id={`${id}-error`} message={message} />
    </label>
  );
};

export const FormMessage = ({ problem }: { problem: FormProblem | undefined }) =>
  problem && Object.keys(problem.fields).length === 0 ? (
    <p class="error" role="alert">
      {problem.message}
    </p>
  ) : null;

/**
 * A form of one button posting an action (CSRF token and idempotency key included), confirmed
 * first when `confirm` is given, with the service's refusal of it below.
 */
export const ActionForm = ({
  page,
  action,
  label,
  kind = "secondary",
  confirm,
  ariaLabel,
  disabled,
  problem,
}: {
  page: PageContext;
  action: string;
  label: string;
  kind?: "primary" | "secondary" | "danger";
  confirm?: string | undefined;
  ariaLabel?: string | undefined;
  disabled?: boolean | undefined;
  problem?: FormProblem | undefined;
}) => (
  <form method="post" action={action} class="inline" data-confirm={confirm}>
    <FormGuard page={page} />
    <button
      type="submit"
      class={kind === "primary" ? undefined : kind}
      aria-label={ariaLabel}
      disabled={disabled}
    >
      {label}
    </button>
    <FormMessage problem={problem} />
  </form>
);
