import type { CollectionOutcome } from "../shared/contract";
import type { MachineAction } from "../shared/mde/models";

/** Maps MDE's final action status to the collection's outcome and a reason a SOC engineer can act on. Pure. */
export function outcomeOfFinalAction(action: MachineAction): { outcome: CollectionOutcome; reason: string } {
  switch (action.status) {
    case "Succeeded":
      return { outcome: "Completed", reason: "MDE ran every command" };
    case "Failed": {
      const failed = action.commands.find((c) => c.commandStatus === "Failed");
      const detail = failed
        ? `command ${failed.index} (${failed.type}) failed: ${failed.errors.join("; ") || "no error text"}`
        : "the action failed";
      return { outcome: "Failed", reason: `${detail}; MDE does not run the commands after a failed one` };
    }
    case "TimeOut":
      return {
        outcome: "TimedOut",
        reason: "MDE timed the action out (the device did not pick it up within the queue window, or a command ran too long)",
      };
    case "Cancelled": {
      const by = action.cancellationRequestor ? ` by ${action.cancellationRequestor}` : "";
      const comment = action.cancellationComment ? `: ${action.cancellationComment}` : "";
      return { outcome: "Cancelled", reason: `the action was cancelled in MDE${by}${comment}` };
    }
    default:
      return { outcome: "Failed", reason: `MDE reported the unexpected final status ${action.status}` };
  }
}
