/**
 * How a worker's SQLITE_FULL says that the database reached its quota rather than the disk
 * filling up: the worker puts these words in the message (workers-image engine/errors.ts) and
 * the functions turn such an error into QUOTA_EXCEEDED (functions/lib/sql-errors.ts). The code
 * stays SQLITE_FULL, as sqld reports it, so libSQL clients see what they always saw.
 */
export const QUOTA_MESSAGE_MARK = "database quota";

export const isQuotaMessage = (message: string): boolean => message.includes(QUOTA_MESSAGE_MARK);
