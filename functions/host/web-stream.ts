/**
 * A Node stream as a web stream, pulled chunk by chunk. (Node 20's Readable.toWeb throws from
 * inside the stream, uncaught, when the consumer cancels while data is still arriving.)
 */
import type { Readable } from "node:stream";

export function webStream(body: Readable): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    cancel(reason) {
      body.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}
