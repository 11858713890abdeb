/**
 * The pieces of the deployment that must name the same things: host.json (read by the runtime and the
 * scale controller), the Bicep template, the azd parameter file and azure.yaml.
 */
import path from "node:path";
import { submissionRecordName } from "../../../activities/submissionRecords";
import { Roles } from "../../../shared/auth/roles";
import { readText } from "../../support/sourceText";

const root = path.join(__dirname, "..", "..", "..");
const hostJson = JSON.parse(readText(path.join(root, "host.json"))) as {
  extensions: { durableTask: { hubName: string; storageProvider: { type?: string; connectionStringName?: string } } };
};
const main = readText(path.join(root, "infra", "main.bicep"));
const functionApp = readText(path.join(root, "infra", "modules", "functionApp.bicep"));

describe("host.json and the template agree on the Durable backend", () => {
  const durable = hostJson.extensions.durableTask;

  it("declares the Durable Task Scheduler with the connection setting the template sets", () => {
    expect(durable.storageProvider.type).toBe("azureManaged");
    expect(durable.storageProvider.connectionStringName).toBe("DURABLE_TASK_SCHEDULER_CONNECTION_STRING");
    expect(functionApp).toMatch(
      /DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=\$\{durableTaskSchedulerEndpoint\};Authentication=ManagedIdentity;ClientID=\$\{identityClientId\}'/,
    );
  });

  it("has a hub name a task hub resource accepts (3-64 letters, digits, hyphens), which the template takes from host.json", () => {
    expect(durable.hubName).toMatch(/^[a-zA-Z0-9-]{3,64}$/);
    expect(main).toContain("taskHubName: hostJson.extensions.durableTask.hubName");
    expect(main).toContain("var hostJson = loadJsonContent('../host.json')");
  });

  it("derives the backend from host.json unless DURABLE_BACKEND says otherwise", () => {
    expect(main).toMatch(
      /var hostJsonBackend = toLower\(hostJson\.extensions\.durableTask\.storageProvider\.\?type \?\? 'AzureStorage'\) == 'azuremanaged'/,
    );
    expect(main).toMatch(/var useScheduler = \(empty\(durableBackend\) \? hostJsonBackend : durableBackend\) == 'durableTaskScheduler'/);
  });
});

describe("azd parameter file", () => {
  const parameters = JSON.parse(readText(path.join(root, "infra", "main.parameters.json"))) as {
    parameters: Record<string, { value: string }>;
  };
  /** Parameter name -> whether it has a default (`param x string = ...`, or `param x { ... } = { ... }` for object types). */
  const declared = new Map(
    [...main.matchAll(/^param (\w+) /gm)].map((m) => {
      let i = m.index! + m[0].length;
      if (main[i] === "{") {
        for (let depth = 0; ; i++) {
          if (main[i] === "{") depth++;
          else if (main[i] === "}" && --depth === 0) break;
        }
        return [m[1], /^\}\s*=/.test(main.slice(i))] as const;
      }
      return [m[1], /^[^\n]*=/.test(main.slice(i))] as const;
    }),
  );

  it("maps only parameters main.bicep declares", () => {
    expect(Object.keys(parameters.parameters).filter((name) => !declared.has(name))).toEqual([]);
  });

  it("maps every parameter without a default to an azd environment value", () => {
    const required = [...declared.entries()].filter(([, hasDefault]) => !hasDefault).map(([name]) => name);
    expect(required.sort()).toEqual(["apiAppClientId", "environmentName", "location"]);
    for (const name of required) expect(parameters.parameters[name]?.value).toMatch(/^\$\{[A-Z_]+\}$/);
  });
});

describe("azure.yaml", () => {
  const azureYaml = readText(path.join(root, "azure.yaml"));

  it("deploys the repository root as a TypeScript function app that the template tags for it", () => {
    expect(azureYaml).toMatch(/services:\n {2}api:\n(?: {4}.*\n)*? {4}project: \.\n/);
    expect(azureYaml).toMatch(/\n {4}host: function\n/);
    expect(functionApp).toContain("tags: union(tags, { 'azd-service-name': 'api' })");
  });

  it("runs the postdeploy hook that exists", () => {
    const hooks = [...azureYaml.matchAll(/run: node (\S+)/g)].map((m) => m[1]);
    expect(hooks.length).toBeGreaterThan(0);
    for (const hook of hooks) expect(() => readText(path.join(root, hook))).not.toThrow();
  });
});

describe("the API app registration's roles (infra/entra/apiAppRoles.json)", () => {
  const appRoles = JSON.parse(readText(path.join(root, "infra", "entra", "apiAppRoles.json"))) as {
    value: string;
    id: string;
    allowedMemberTypes: string[];
    isEnabled: boolean;
  }[];

  it("are exactly the roles the API checks, enabled for applications (a SOAR) and users, with distinct ids", () => {
    expect(appRoles.map((r) => r.value).sort()).toEqual(Object.values(Roles).sort());
    for (const role of appRoles) {
      expect(role.isEnabled).toBe(true);
      expect(role.allowedMemberTypes.sort()).toEqual(["Application", "User"]);
      expect(role.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(appRoles.map((r) => r.id)).size).toBe(appRoles.length);
  });
});

describe("the host account's lifecycle policy", () => {
  const hostStorage = readText(path.join(root, "infra", "modules", "hostStorage.bicep"));

  it("deletes the submission records where the collector writes them, and nothing else of its state", () => {
    const folder = submissionRecordName("x").split("/")[0];
    const prefixes = [...hostStorage.matchAll(/prefixMatch: \[([^\]]*)\]/g)].map((m) => m[1]);
    expect(prefixes).toEqual([`'\${stateContainer.name}/${folder}/'`]);
    // Longer than any collection lives (three days of MDE's queue window, then its commands).
    const days = Number(/daysAfterModificationGreaterThan: (\d+)/.exec(hostStorage)![1]);
    expect(days).toBeGreaterThanOrEqual(14);
  });
});
