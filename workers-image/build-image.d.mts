export declare const DEFAULT_TAG: string;
/** Builds the worker image from local files; returns the tag. */
export declare function buildImage(tag?: string): string;
/** The packages the worker bundle loads at run time, as installed here (relative to node_modules). */
export declare function enginePackages(): string[];
/** Copies the engines' packages into the node_modules directory `into`. */
export declare function copyEnginePackages(into: string): void;
