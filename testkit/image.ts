/**
 * The worker image, built from local files (no registry): `buildImage(tag)` builds it with the
 * worker bundle of the working tree and returns the tag. See workers-image/build-image.mjs.
 */
export { buildImage, DEFAULT_TAG, enginePackages } from "../workers-image/build-image.mjs";
