// Preloaded into a worker by a test (`node --require`): when the process exits, writes the
// Node built-in modules it loaded (process.moduleLoadList) to MODULE_LIST_FILE, one per line.
const { writeFileSync } = require("node:fs");

const file = process.env.MODULE_LIST_FILE;
if (file) {
  process.on("exit", () => {
    const builtins = process.moduleLoadList
      .filter((entry) => entry.startsWith("NativeModule "))
      .map((entry) => entry.slice("NativeModule ".length));
    writeFileSync(file, `${builtins.join("\n")}\n`);
  });
}
