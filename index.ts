/**
 * The Functions worker loads this file (package.json `main`). Settings are validated here, once:
 * a bad or missing setting, or a bad file under config/, stops the app at startup with a message naming it.
 */
import { createServices, registerApp } from "./app";
import { loadConfig } from "./shared/config";
import { findAppRoot } from "./shared/configFiles/appRoot";

registerApp(createServices(loadConfig(process.env, { appRoot: findAppRoot(__dirname) })));
