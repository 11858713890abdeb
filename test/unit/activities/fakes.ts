import { InvocationContext } from "@azure/functions";
import type { MdeApi } from "../../../shared/mde/api";
import type { MachineAction } from "../../../shared/mde/models";

/** An MdeApi whose every method is a jest mock; unset methods fail loudly. */
export function fakeMde(over: Partial<Record<keyof MdeApi, jest.Mock>> = {}): MdeApi & Record<keyof MdeApi, jest.Mock> {
  const fail = (name: string) => jest.fn(async () => { throw new Error(`unexpected call to ${name}`); });
  return {
    runLiveResponse: over.runLiveResponse ?? fail("runLiveResponse"),
    getMachineAction: over.getMachineAction ?? fail("getMachineAction"),
    listMachineActions: over.listMachineActions ?? fail("listMachineActions"),
    getLiveResponseResultDownloadLink: over.getLiveResponseResultDownloadLink ?? fail("getLiveResponseResultDownloadLink"),
    cancelMachineAction: over.cancelMachineAction ?? fail("cancelMachineAction"),
    listMachines: over.listMachines ?? fail("listMachines"),
    getAlert: over.getAlert ?? fail("getAlert"),
  };
}

export const context = () => new InvocationContext({ functionName: "test", logHandler: () => {} });

export function machineAction(over: Partial<MachineAction> = {}): MachineAction {
  return {
    id: "2e9da30d-27f6-4208-81f2-9cd3d67893ba",
    type: "LiveResponse",
    status: "Pending",
    machineId: "f70f9fe6b29cd9511652434919c6530618f06606",
    computerDnsName: "desktop-test",
    requestor: "app",
    requestorComment: "Investigate [collector:abc]",
    creationDateTimeUtc: "2026-01-01T00:00:00Z",
    lastUpdateDateTimeUtc: "2026-01-01T00:00:00Z",
    errorHResult: 0,
    cancellationRequestor: null,
    cancellationComment: null,
    cancellationDateTimeUtc: null,
    commands: [],
    ...over,
  };
}
