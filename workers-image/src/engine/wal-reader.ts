import { readSync } from "node:fs";

/**
 * Reading SQLite's WAL file directly (https://sqlite.org/fileformat2.html#walformat): its
 * 32-byte header and its frames (a 24-byte header and one page each). A frame belongs to the
 * current WAL only if it carries the header's salts and its cumulative checksum holds; frames
 * after the first that does not are left-overs of an earlier WAL or a torn write.
 */

const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;
export const WAL_HEADER_BYTES = 32;
export const FRAME_HEADER_BYTES = 24;

export type Checksum = [number, number];

export interface WalHeader {
  bigEndian: boolean;
  pageSize: number;
  salt1: number;
  salt2: number;
  /** The header's checksum: where the first frame's checksum chain starts. */
  checksum: Checksum;
}

/** The WAL's header, or undefined when there is none (no file, empty, torn). */
export function readWalHeader(fd: number, size: number): WalHeader | undefined {
  if (size < WAL_HEADER_BYTES) return undefined;
  const header = Buffer.alloc(WAL_HEADER_BYTES);
  if (readSync(fd, header, 0, WAL_HEADER_BYTES, 0) < WAL_HEADER_BYTES) return undefined;
  const magic = header.readUInt32BE(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return undefined;
  const bigEndian = magic === MAGIC_BE;
  const checksum: Checksum = [header.readUInt32BE(24), header.readUInt32BE(28)];
  const computed = walChecksum(bigEndian, header.subarray(0, 24), [0, 0]);
  if (computed[0] !== checksum[0] || computed[1] !== checksum[1]) return undefined;
  return {
    bigEndian,
    pageSize: header.readUInt32BE(8),
    salt1: header.readUInt32BE(16),
    salt2: header.readUInt32BE(20),
    checksum,
  };
}

/** SQLite's WAL checksum of `data` (a multiple of 8 bytes), continuing from `start`. */
export function walChecksum(bigEndian: boolean, data: Uint8Array, start: Checksum): Checksum {
  let s1 = start[0];
  let s2 = start[1];
  // The common case, fast: a little-endian WAL on a little-endian machine, read as words.
  if (!bigEndian && LITTLE_ENDIAN_HOST && data.byteOffset % 4 === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    for (let i = 0; i + 1 < words.length; i += 2) {
      s1 = (s1 + (words[i] as number) + s2) >>> 0;
      s2 = (s2 + (words[i + 1] as number) + s1) >>> 0;
    }
    return [s1, s2];
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const littleEndian = !bigEndian;
  for (let i = 0; i + 8 <= data.byteLength; i += 8) {
    s1 = (s1 + view.getUint32(i, littleEndian) + s2) >>> 0;
    s2 = (s2 + view.getUint32(i + 4, littleEndian) + s1) >>> 0;
  }
  return [s1, s2];
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface Frame {
  pgno: number;
  /** Pages in the database after this frame's commit; 0 if it does not end a commit. */
  commitPages: number;
  page: Buffer;
  checksum: Checksum;
}

/**
 * Reads frame `index` (1-based) into `buffer` (frame-sized) and checks it against the WAL's
 * salts and the checksum of the frame before it; undefined if it is not a valid frame.
 */
export function readFrame(
  fd: number,
  size: number,
  header: WalHeader,
  index: number,
  previous: Checksum,
  buffer: Buffer,
): Frame | undefined {
  const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
  const offset = WAL_HEADER_BYTES + (index - 1) * frameBytes;
  if (offset + frameBytes > size) return undefined;
  if (readSync(fd, buffer, 0, frameBytes, offset) < frameBytes) return undefined;
  if (buffer.readUInt32BE(8) !== header.salt1 || buffer.readUInt32BE(12) !== header.salt2)
    return undefined;
  const page = buffer.subarray(FRAME_HEADER_BYTES, frameBytes);
  let checksum = walChecksum(header.bigEndian, buffer.subarray(0, 8), previous);
  checksum = walChecksum(header.bigEndian, page, checksum);
  if (checksum[0] !== buffer.readUInt32BE(16) || checksum[1] !== buffer.readUInt32BE(20))
    return undefined;
  return { pgno: buffer.readUInt32BE(0), commitPages: buffer.readUInt32BE(4), page, checksum };
}

/** The checksum stored in frame `index`'s header (to continue a chain from there). */
export function frameChecksum(fd: number, header: WalHeader, index: number): Checksum | undefined {
  const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
  const buffer = Buffer.alloc(FRAME_HEADER_BYTES);
  const offset = WAL_HEADER_BYTES + (index - 1) * frameBytes;
  if (readSync(fd, buffer, 0, FRAME_HEADER_BYTES, offset) < FRAME_HEADER_BYTES) return undefined;
  return [buffer.readUInt32BE(16), buffer.readUInt32BE(20)];
}
