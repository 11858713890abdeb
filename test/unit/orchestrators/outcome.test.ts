import { outcomeOfFinalAction } from "../../../orchestrators/outcome";
import type { MachineAction } from "../../../shared/mde/models";

const action = (over: Partial<MachineAction>): MachineAction => ({
  id: "a",
  type: "LiveResponse",
  status: "Succeeded",
  machineId: "m",
  computerDnsName: null,
  requestor: null,
  requestorComment: null,
  creationDateTimeUtc: null,
  lastUpdateDateTimeUtc: null,
  errorHResult: null,
  cancellationRequestor: null,
  cancellationComment: null,
  cancellationDateTimeUtc: null,
  commands: [],
  ...over,
});

describe("outcomeOfFinalAction", () => {
  it("maps each final MDE status to an outcome", () => {
    expect(outcomeOfFinalAction(action({ status: "Succeeded" })).outcome).toBe("Completed");
    expect(outcomeOfFinalAction(action({ status: "Failed" })).outcome).toBe("Failed");
    expect(outcomeOfFinalAction(action({ status: "TimeOut" })).outcome).toBe("TimedOut");
    expect(outcomeOfFinalAction(action({ status: "Cancelled" })).outcome).toBe("Cancelled");
  });

  it("names the failed command and says the rest were not run", () => {
    const r = outcomeOfFinalAction(
      action({
        status: "Failed",
        commands: [
          {
            index: 0,
            type: "RunScript",
            params: [],
            commandStatus: "Failed",
            errors: ["Script not found"],
            startTime: null,
            endTime: null,
          },
          { index: 1, type: "GetFile", params: [], commandStatus: "Created", errors: [], startTime: null, endTime: null },
        ],
      }),
    );
    expect(r.reason).toContain("command 0 (RunScript) failed: Script not found");
    expect(r.reason).toContain("does not run the commands after a failed one");
  });

  it("says who cancelled in MDE", () => {
    expect(
      outcomeOfFinalAction(action({ status: "Cancelled", cancellationRequestor: "analyst@contoso.com", cancellationComment: "wrong host" }))
        .reason,
    ).toBe("the action was cancelled in MDE by analyst@contoso.com: wrong host");
  });
});
