// node validate_sarif.js FILE...: each SARIF log against the SARIF 2.1.0 JSON schema (the
// schemastore's sarif-2.1.0-rtm.5, a draft-04 schema, as @microsoft/jest-sarif ships it), with
// Ajv's draft-04 class and format checks. Prints "PASS FILE" or "FAIL FILE: errors"; exit 1 on any FAIL.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");

const schemaPath = path.join(path.dirname(require.resolve("@microsoft/jest-sarif/package.json")),
                             "lib", "schemas", "sarif-2.1.0-rtm.5.json");
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
// unicodeRegExp: false: the schema's "language" pattern has a stray "]" that only non-unicode regexps accept.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);
let failed = 0;
for (const file of process.argv.slice(2)) {
  let log;
  try {
    log = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`FAIL ${file}: not JSON: ${e.message}`);
    failed++;
    continue;
  }
  if (validate(log)) {
    console.log(`PASS ${file}`);
  } else {
    console.log(`FAIL ${file}: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
