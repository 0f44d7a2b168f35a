// Validates FHIR R4 JSON with FHIR.js (npm "fhir"), independent of the app's own code.
// Reads one JSON document per argument (a file path), or from stdin with no argument, and
// prints one JSON line per document: {"valid": bool, "messages": [...]}.
"use strict";
const fs = require("fs");
const { Fhir } = require("fhir");

const fhir = new Fhir();  // R4 profiles by default

function check(text) {
  const result = fhir.validate(JSON.parse(text), { errorOnUnexpected: true });
  return { valid: result.valid, messages: result.messages };
}

const inputs = process.argv.length > 2
  ? process.argv.slice(2).map((p) => fs.readFileSync(p, "utf8"))
  : [fs.readFileSync(0, "utf8")];
for (const text of inputs) {
  process.stdout.write(JSON.stringify(check(text)) + "\n");
}
