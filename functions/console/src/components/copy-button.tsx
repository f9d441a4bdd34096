import { useState } from "hono/jsx";

/** Copies `text`; where the clipboard is refused, says how to copy by hand. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [status, setStatus] = useState("");
  return (
    <span class="copy">
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setStatus("Copied.");
          } catch {
            setStatus("Select the text and press Ctrl-C to copy.");
          }
        }}
      >
        {label}
      </button>
      <span role="status" class="muted">
        {status ? ` ${status}` : ""}
      </span>
    </span>
  );
}
