/**
 * The saved KQL queries and the alert rule (infra/queries) select log lines by their constant message
 * and read their properties: renaming a log message or a property in the code must fail here, not
 * silently empty a dashboard or mute the failed-collection alert.
 */
import path from "node:path";
import { filesUnder, readText } from "../../support/sourceText";

const root = path.join(__dirname, "..", "..", "..");
const queryDir = path.join(root, "infra", "queries");
const productFiles = ["functions", "activities", "orchestrators", "shared"]
  .flatMap((d) => filesUnder(path.join(root, d), ".ts"))
  .concat(path.join(root, "app.ts"));
const product = productFiles.map((file) => ({ file, text: readText(file) }));

function eventsIn(query: string): string[] {
  return [...query.matchAll(/Event\s*==\s*"([^"]+)"/g)].map((m) => m[1]);
}

describe("saved queries match what the collector logs", () => {
  const queries = filesUnder(queryDir, ".kql").map((file) => ({ name: path.basename(file), text: readText(file) }));

  it("has the queries the deployment promises", () => {
    expect(queries.map((q) => q.name).sort()).toEqual([
      "collectionsByOutcome.kql",
      "collectorEvents.kql",
      "evidencePerDay.kql",
      "failedCollections.kql",
      "throttledByEndpoint.kql",
    ]);
  });

  it.each(["collectionsByOutcome.kql", "evidencePerDay.kql", "failedCollections.kql", "throttledByEndpoint.kql"])(
    "%s selects a message the code logs, and reads properties that line carries",
    (name) => {
      const query = readText(path.join(queryDir, name));
      const events = eventsIn(query);
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) {
        const loggers = product.filter((p) => p.text.includes(`"${event}"`));
        expect({ event, loggedIn: loggers.length > 0 }).toEqual({ event, loggedIn: true });
        const properties = [...new Set([...query.matchAll(/Details\.(\w+)/g)].map((m) => m[1]))];
        const unknown = properties.filter((p) => !loggers.some((l) => new RegExp(`\\b${p}\\b`).test(l.text)));
        expect({ event, propertiesNotInTheLoggingFiles: unknown }).toEqual({ event, propertiesNotInTheLoggingFiles: [] });
      }
    },
  );

  it("filters on outcome names the collection can end with", () => {
    const outcomeType = product.map((p) => /export type CollectionOutcome = ([^;]+);/.exec(p.text)?.[1]).find(Boolean)!;
    expect(outcomeType).toContain('"Completed"');
    const list = /Outcome in \(([^)]*)\)/.exec(readText(path.join(queryDir, "failedCollections.kql")))![1];
    const used = [...list.matchAll(/"(\w+)"/g)].map((m) => m[1]);
    expect(used).toEqual(["Failed", "TimedOut", "Rejected"]);
    for (const outcome of used) expect(outcomeType).toContain(`"${outcome}"`);
  });

  it("the alert rule runs the failed-collections query on top of CollectorEvents", () => {
    const monitoring = readText(path.join(root, "infra", "modules", "monitoring.bicep"));
    expect(monitoring).toContain(
      "let CollectorEvents = () {\\n${collectorEventsQuery}\\n};\\n${loadTextContent('../queries/failedCollections.kql')}",
    );
  });
});
