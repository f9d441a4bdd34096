/** `npm run bench`: every benchmark, each printing ratios against a baseline from the same run. */
import { benchControlPlane } from "./control-plane-latency";
import { benchDensity } from "./density";
import { benchEngines } from "./engines";
import { benchExportImport } from "./export-import";
import { benchFunctions } from "./functions-throughput";
import { benchWalArchive } from "./wal-archive";
import { benchWorker } from "./worker-throughput";

await benchWorker();
await benchWalArchive();
await benchEngines();
await benchFunctions();
await benchControlPlane();
await benchDensity();
await benchExportImport();
