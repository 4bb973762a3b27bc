// ESLint for our own JavaScript (`make lint-js`): the scripts in static/js and the service worker.
// Every file is a classic script, not a module: the pages load them with plain <script> tags (quick-exit.js
// synchronously in <head>), and the service worker is registered without {type: "module"} and pulls in
// offline-queue.js with importScripts. htmx is served from node_modules (the locked npm package) and is not ours.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/"] },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js", "service_worker/**/*.js"],
    languageOptions: { sourceType: "script" },
    rules: {
      // The Content-Security-Policy forbids evaluating strings; catch it here instead of as a console error.
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      eqeqeq: ["error", "always"],
      // A catch that deliberately swallows (storage switched off, offline) may still name what it caught.
      "no-unused-vars": ["error", { caughtErrors: "none" }],
    },
  },
  { files: ["static/js/**/*.js"], languageOptions: { globals: globals.browser } },
  { files: ["service_worker/**/*.js"], languageOptions: { globals: globals.serviceworker } },
  // The offline queue runs in the pages and, through importScripts, in the service worker.
  {
    files: ["static/js/offline-queue.js"],
    languageOptions: { globals: { ...globals.browser, ...globals.serviceworker } },
  },
];
