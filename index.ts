/**
 * The Functions worker loads this file (package.json `main`). Settings are validated here, once:
 * a bad or missing setting stops the app at startup with a message naming it.
 */
import { createServices, registerApp } from "./app";
import { loadConfig } from "./shared/config";

registerApp(createServices(loadConfig(process.env)));
