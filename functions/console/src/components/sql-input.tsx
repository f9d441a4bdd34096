import { useEffect, useRef } from "hono/jsx";
import type { SqlEditor } from "./codemirror";

/**
 * The SQL editor: CodeMirror 6 in the SQLite dialect (./codemirror.ts, loaded on first use), with
 * completion of the database's table and column names. Ctrl/Cmd-Enter runs. The editable element
 * carries the label (aria-labelledby), so it is one form field to assistive technology and to
 * tests. Tab moves focus on (no tab trapping): SQL needs no indentation.
 */
export function SqlInput(props: {
  id: string;
  labelId: string;
  initial?: string;
  schema: Record<string, string[]>;
  onRun: () => void;
  onChange: (text: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<SqlEditor | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    let gone = false;
    void import("./codemirror").then(({ createSqlEditor }) => {
      const parent = host.current;
      if (gone || !parent) return;
      editor.current = createSqlEditor({
        parent,
        id: props.id,
        labelId: props.labelId,
        initial: props.initial ?? "",
        schema: latest.current.schema,
        onRun: () => latest.current.onRun(),
        onChange: (text) => latest.current.onChange(text),
      });
    });
    return () => {
      gone = true;
      editor.current?.destroy();
      editor.current = null;
    };
  }, []);

  // New schema (tables loaded or changed): the completion follows.
  useEffect(() => {
    editor.current?.setSchema(props.schema);
  }, [props.schema]);

  return <div class="sql-input" ref={host} />;
}
