/** The LIBRARY_* settings, read through the config loader (shared/config.ts). */
import type { SettingsReader } from "../settingsReader";

export interface LibrarySettings {
  /**
   * Run a RunScript or PutFile whose library file has no reviewed SHA-256 (neither pinned in the playbook
   * nor in the deployed `library/` folder), recording the hash MDE holds. @default false: refused (LIBRARY_ALLOW_UNREVIEWED)
   */
  allowUnreviewed: boolean;
}

/** Reads LIBRARY_ALLOW_UNREVIEWED; a bad value is a problem named after the setting. */
export function readLibrarySettings(reader: SettingsReader): LibrarySettings {
  return { allowUnreviewed: reader.bool("LIBRARY_ALLOW_UNREVIEWED", false) };
}
