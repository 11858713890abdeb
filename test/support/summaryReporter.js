/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", as the very last line of
 * the run, for CI systems that do not parse jest's own summary.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests + failedSuites} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`;
    // jest prints its own summary after the reporters' onRunComplete; this keeps ours last.
    process.once("exit", () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
