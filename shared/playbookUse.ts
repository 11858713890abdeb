import { playbookNames, unavailablePlaceholders, type PlaceholderContext, type PlaybookCatalog } from "./playbooks";

/**
 * Checks, at load, that a plan or rule names an existing playbook whose placeholders its trigger
 * can fill, and gives exactly the `{{params.*}}` values the playbook uses.
 */
export function checkPlaybookUse(
  playbook: unknown,
  parameters: Record<string, string>,
  catalog: PlaybookCatalog,
  context: PlaceholderContext,
  at: string,
  add: (at: string, problem: string) => void,
): void {
  if (typeof playbook !== "string" || !catalog.has(playbook)) {
    add(`${at}.playbook`, `must name a playbook in config/playbooks/ or PLAYBOOKS: ${playbookNames(catalog)}`);
    return;
  }
  const p = catalog.get(playbook)!;
  const unavailable = unavailablePlaceholders(p, context).filter((name) => !name.startsWith("params."));
  if (unavailable.length > 0)
    add(`${at}.playbook`, `"${playbook}" uses ${unavailable.map((n) => `{{${n}}}`).join(", ")}, which a ${context} collection cannot fill`);
  const used = p.placeholders.filter((n) => n.startsWith("params.")).map((n) => n.slice("params.".length));
  for (const name of used) if (!(name in parameters)) add(`${at}.parameters`, `"${playbook}" needs a value for {{params.${name}}}`);
  for (const name of Object.keys(parameters))
    if (!used.includes(name)) add(`${at}.parameters.${name}`, `"${playbook}" has no {{params.${name}}} placeholder`);
}
