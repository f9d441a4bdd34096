import { expect, test } from "vitest";
import { filteredColumns, planTree, suggestIndexes } from "./explain";

test("plan rows become a tree", () => {
  const tree = planTree([
    [2, 0, 0, "SCAN a"],
    [5, 0, 0, "SEARCH b USING INDEX b_x (x=?)"],
    [7, 5, 0, "LIST SUBQUERY 1"],
  ]);
  expect(tree.map((n) => n.detail)).toEqual(["SCAN a", "SEARCH b USING INDEX b_x (x=?)"]);
  expect(tree[1]?.children.map((n) => n.detail)).toEqual(["LIST SUBQUERY 1"]);
});

test("a full scan filtered on unindexed columns suggests an index; indexed ones do not", () => {
  const sql = "SELECT * FROM orders WHERE customer_id = ? AND status IN ('open') ORDER BY id";
  expect(filteredColumns(sql)).toEqual(["customer_id", "status"]);
  const plan = planTree([[2, 0, 0, "SCAN orders"]]);
  const tables = {
    orders: { columns: ["id", "customer_id", "status", "total"], indexes: [["status"]] },
  };
  expect(suggestIndexes(plan, sql, tables)).toEqual([
    {
      table: "orders",
      columns: ["customer_id"],
      sql: 'CREATE INDEX "idx_orders_customer_id" ON "orders" ("customer_id");',
    },
  ]);
  expect(
    suggestIndexes(planTree([[2, 0, 0, "SEARCH orders USING INDEX x (status=?)"]]), sql, tables),
  ).toEqual([]);
  expect(suggestIndexes(plan, "SELECT * FROM orders", tables)).toEqual([]);
});
