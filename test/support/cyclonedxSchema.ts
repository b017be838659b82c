// CycloneDX's published JSON schema (shipped by @cyclonedx/cyclonedx-library), compiled with ajv for the BOM tests.
import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as fs from "node:fs";
import * as path from "node:path";

const SCHEMA_DIR = path.join(
  path.dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")),
  "res",
  "schema",
);

const read = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, name), "utf8")) as Record<string, unknown>;

/** Errors of `doc` against bom-1.6.schema.json (with its spdx and jsf references); empty when valid. */
export function cyclonedx16Errors(): (doc: unknown) => string[] {
  // strict: false because the schema uses keywords ajv does not know ("meta:enum", "deprecated").
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats lacks the two IRI/IDN formats; these checks are looser than RFC 3987/6531 but
  // still reject what no IRI or address can be (whitespace, no "@").
  ajv.addFormat("iri-reference", /^[^\s<>"{}|\\^`]*$/u);
  ajv.addFormat("idn-email", /^[^\s@]+@[^\s@]+$/u);
  // bom-1.6 refers to its companions by file name relative to its own $id; register each there.
  for (const name of ["spdx", "jsf-0.82", "cryptography-defs"].map(
    (n) => `${n}.SNAPSHOT.schema.json`,
  )) {
    const schema = read(name);
    delete schema.$id;
    ajv.addSchema(schema, `http://cyclonedx.org/schema/${name}`);
  }
  const validate = ajv.compile(read("bom-1.6.SNAPSHOT.schema.json"));
  return (doc) =>
    validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
