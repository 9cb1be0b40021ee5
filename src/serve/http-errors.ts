// The one place that builds an error answer: `{"error": {"code", "message"}}` with its status
// (and Retry-After for what a retry can fix). Route handlers, the admission hooks, 404s and
// Fastify's own errors (body too large, bad JSON, wrong content type) all come through here.
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { classifyError, HttpError, statusOfClass } from "../core/errors.ts";

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  retryAfter?: number,
): FastifyReply {
  if (retryAfter !== undefined) reply.header("retry-after", String(retryAfter));
  return reply.code(status).send({ error: { code, message } } satisfies ErrorBody);
}

/** The HttpError a failed reward (`verdict: "error"`) makes when it has to fail the whole request. */
export function rewardFailure(code: string, source: string, message: string, field: string): HttpError {
  const status = statusOfClass(classifyError(code, source));
  const text = `${field}: ${source}: ${message}`;
  return new HttpError(status, code, text, status === 503 ? 1 : undefined);
}

/** Fastify's own error codes, as our codes and messages. */
function fromFastify(e: FastifyError, bodyLimit: number): HttpError {
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HttpError(
        413,
        "body_too_large",
        `the request body is larger than the body limit of ${bodyLimit} bytes (--body-limit); split the request`,
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HttpError(415, "unsupported_media_type", `body: ${e.message}; send application/json`);
    default: {
      const status = e.statusCode ?? 500;
      if (status >= 500) return new HttpError(500, "internal", e.message);
      return new HttpError(status, "bad_request", `body: ${e.message}`);
    }
  }
}

/** Routes every error and unknown route of `app` through sendError. */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError | HttpError, req, reply) => {
    const e = error instanceof HttpError ? error : fromFastify(error as FastifyError, bodyLimit);
    if (e.status >= 500) req.log.error({ err: error }, "request failed");
    return sendError(reply, e.status, e.code, e.message, e.retryAfter);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, "not_found", `no route ${req.method} ${req.url.split("?")[0]}`),
  );
}
