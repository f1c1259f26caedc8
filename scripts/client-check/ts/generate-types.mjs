// TypeScript types of api-spec/openapi.yaml by openapi-typescript's Node API, with two settings
// of its documentation: its transform for binary bodies (`format: binary`, the letter of
// credentials, becomes `Blob` instead of `string`), and `defaultNonNullable: false`, so that a
// request field with a `default` (a conference's `status`, a member's `is_head`) stays optional
// to send; by default it would be required, as in a response. Usage: node generate-types.mjs SPEC OUT.
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [spec, out] = process.argv.slice(2);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(readFileSync(spec, "utf8"), {
  defaultNonNullable: false,
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return BLOB;
    }
    return undefined;
  },
});
writeFileSync(out, astToString(ast));
