import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";

/** An invocation context whose durable client input carries `bindingData`, as the worker builds it. */
export function contextWithDurableClient(bindingData: unknown): InvocationContext {
  const input = df.input.durableClient();
  const context = new InvocationContext({ functionName: "probe", logHandler: () => {}, options: { extraInputs: [input] } });
  context.extraInputs.set(input, bindingData);
  return context;
}
