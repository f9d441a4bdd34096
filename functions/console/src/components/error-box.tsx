/** An error screen readers announce, with its stable code. */
export function ErrorBox({ error }: { error: { code?: string; message: string } }) {
  return (
    <div class="error" role="alert">
      {error.code ? <strong>{error.code} </strong> : null}
      {error.message}
    </div>
  );
}
