/** Kept for the trigger tests that still import it from here; new tests import test/support/fakes directly. */
export { context, fakeMde, machineAction } from "../../support/fakes";
