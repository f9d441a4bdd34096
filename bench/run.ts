/** `npm run bench`: every benchmark, each printing ratios against a baseline from the same run. */
import { benchControlPlane } from "./control-plane";
import { benchFunctions } from "./functions";
import { benchWorker } from "./worker";

await benchWorker();
await benchFunctions();
await benchControlPlane();
