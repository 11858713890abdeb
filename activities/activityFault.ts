import type { InvocationContext } from "@azure/functions";
import { CollectorError, MdeApiError, redactText } from "../shared/errors";
import { jsonLogger } from "../shared/log";
import { describeFailure } from "../shared/publicMessage";

/**
 * The error an activity throws for a transient or unknown fault. The Durable runtime retries the
 * activity, and once retries are exhausted hands the orchestrator `Activity function '<name>' failed:
 * <message>` followed by the exception's details, which end in the collection's status: so the
 * message is one line with MDE's code and correlation id, and the stack names no server file
 * (it is the message alone). The original error is logged first, for the operator.
 */
export function activityFault(e: unknown, context: InvocationContext): Error {
  const message = describeFailure(e);
  const programmingError = !(e instanceof CollectorError) && e instanceof Error;
  jsonLogger(context).warn("activity failed; the Durable runtime retries it", {
    code: e instanceof CollectorError ? e.code : undefined,
    status: e instanceof MdeApiError ? e.statusCode : undefined,
    target: e instanceof MdeApiError ? e.target : undefined,
    failure: message,
    // Only a fault of our own code needs its stack; logs are the operator's, status is the caller's.
    stack: programmingError && e.stack ? redactText(e.stack) : undefined,
  });
  const fault = new Error(message);
  fault.stack = `Error: ${message}`;
  return fault;
}

/** Runs an activity body; whatever it throws leaves as an {@link activityFault}. */
export function withPublicFaults<I, O>(
  body: (input: I, context: InvocationContext) => Promise<O>,
): (input: I, context: InvocationContext) => Promise<O> {
  return async (input, context) => {
    try {
      return await body(input, context);
    } catch (e) {
      throw activityFault(e, context);
    }
  };
}
