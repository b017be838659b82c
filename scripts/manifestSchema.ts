// Writes schema/models.schema.json from the zod schema (npm run schema); a test fails when it is stale.

import * as fs from "node:fs";
import * as path from "node:path";
import { MANIFEST_JSON_SCHEMA_PATH, manifestJsonSchemaText } from "../lib/manifest/jsonSchema";

const file = path.resolve(__dirname, "..", MANIFEST_JSON_SCHEMA_PATH);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, manifestJsonSchemaText());
console.log(`wrote ${MANIFEST_JSON_SCHEMA_PATH}`);
