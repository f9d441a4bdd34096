/**
 * CodeMirror 6 for the SQL editor, in its own chunk: it is most of the console's code, and only
 * the SQL tab needs it (the page loads it when the editor first shows).
 */
import { autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { SQLite, sql } from "@codemirror/lang-sql";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";

export interface SqlEditorOptions {
  parent: HTMLElement;
  id: string;
  labelId: string;
  initial: string;
  schema: Record<string, string[]>;
  onRun: () => void;
  onChange: (text: string) => void;
}

export interface SqlEditor {
  setSchema(schema: Record<string, string[]>): void;
  destroy(): void;
}

const sqlite = (schema: Record<string, string[]>) =>
  sql({ dialect: SQLite, schema, upperCaseKeywords: true });

export function createSqlEditor(options: SqlEditorOptions): SqlEditor {
  const language = new Compartment();
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.initial,
      extensions: [
        history(),
        keymap.of([
          {
            key: "Mod-Enter",
            preventDefault: true,
            run: () => {
              options.onRun();
              return true;
            },
          },
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        language.of(sqlite(options.schema)),
        syntaxHighlighting(defaultHighlightStyle),
        autocompletion(),
        placeholder("SELECT * FROM sqlite_schema;"),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({
          id: options.id,
          "aria-labelledby": options.labelId,
          "aria-multiline": "true",
          role: "textbox",
          spellcheck: "false",
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setSchema: (schema) => view.dispatch({ effects: language.reconfigure(sqlite(schema)) }),
    destroy: () => view.destroy(),
  };
}
