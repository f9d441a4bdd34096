export declare const DEFAULT_TAG: string;
/** Builds the worker image from local files; returns the tag. */
export declare function buildImage(tag?: string): string;
