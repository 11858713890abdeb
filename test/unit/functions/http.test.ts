import { HttpRequest } from "@azure/functions";
import { readJsonBody } from "../../../functions/http";

const KiB = 1024;

/**
 * A request whose body arrives as a stream of `chunks` chunks of 16 KiB with no Content-Length
 * (Transfer-Encoding: chunked), counting the chunks the handler pulls.
 */
function chunkedRequest(chunks: number) {
  const pulled = { count: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.count === chunks) return controller.close();
      pulled.count += 1;
      controller.enqueue(new Uint8Array(16 * KiB).fill(0x20));
    },
  });
  const request = {
    headers: new Headers({ "content-type": "application/json", "transfer-encoding": "chunked" }),
    body,
    text: () => new Response(body).text(),
    json: () => new Response(body).json(),
    arrayBuffer: () => new Response(body).arrayBuffer(),
  } as unknown as HttpRequest;
  return { request, pulled };
}

describe("readJsonBody", () => {
  it("stops reading a chunked body once it passes the limit, and answers 413", async () => {
    const { request, pulled } = chunkedRequest(640); // 10 MiB
    const result = await readJsonBody(request, 64 * KiB);
    expect(result).toMatchObject({ ok: false, response: { status: 413, jsonBody: { error: { code: "RequestTooLarge" } } } });
    // 64 KiB is four chunks: the fifth passes the limit, nothing after it is read.
    expect(pulled.count).toBeLessThanOrEqual(6);
  });

  it("reads a chunked body under the limit whole", async () => {
    const { request } = chunkedRequest(2);
    expect(await readJsonBody(request, 64 * KiB, false)).toEqual({ ok: true, value: {} });
  });

  it("refuses a declared Content-Length over the limit without reading, bytes that are not UTF-8, and JSON errors without echoing the body", async () => {
    const declared = new HttpRequest({
      method: "POST",
      url: "http://localhost/api/x",
      body: { string: "{}" },
      headers: { "content-length": String(10 * 1024 * 1024) },
    });
    expect(await readJsonBody(declared, 64 * KiB)).toMatchObject({ ok: false, response: { status: 413 } });
    const latin1 = new HttpRequest({
      method: "POST",
      url: "http://localhost/api/x",
      body: { bytes: new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]) },
    });
    expect(await readJsonBody(latin1, 64 * KiB)).toMatchObject({
      ok: false,
      response: { status: 400, jsonBody: { error: { message: "The request body is not valid UTF-8." } } },
    });
    const bad = new HttpRequest({ method: "POST", url: "http://localhost/api/x", body: { string: '{"secret-looking-text' } });
    const answer = await readJsonBody(bad, 64 * KiB);
    expect(answer).toMatchObject({ ok: false, response: { status: 400 } });
    expect(JSON.stringify(answer)).not.toContain("secret-looking-text");
  });
});
