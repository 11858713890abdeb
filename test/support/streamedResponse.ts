/**
 * A download answer for scripted fetches: the body arrives in 1000-byte pulls and, with
 * `breakAfter`, fails after that many bytes the way undici reports a dropped connection
 * (`TypeError: terminated`).
 */
export function streamedResponse(body: Uint8Array, breakAfter: number | undefined, init: ResponseInit): Response {
  // Pull-based, so a cut delivers its bytes before the error (error() would drop queued chunks).
  let at = 0;
  const end = breakAfter ?? body.length;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at < end) {
        const next = Math.min(end, at + 1000);
        controller.enqueue(new Uint8Array(body.subarray(at, next)));
        at = next;
      } else if (breakAfter !== undefined) controller.error(new TypeError("terminated"));
      else controller.close();
    },
  });
  return new Response(stream, init);
}
