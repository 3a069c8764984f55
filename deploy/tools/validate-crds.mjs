// Validates Prometheus Operator objects against their CRD schemas, using the validators the npm
// package @kubernetes-models/prometheus-operator generates from the operator's CRDs.
// Input (stdin): a JSON array of objects, each with an extra `__template__` naming its source.
// Output (stdout): one `valid\t<where>` or `invalid\t<where>\t<message>` line per object.
// Exit: 0 all valid, 1 some invalid, 2 internal error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.DYNALERT_NODE_MODULES;
if (!modules) {
  console.error("error: DYNALERT_NODE_MODULES is not set");
  process.exit(2);
}
const pkg = join(modules, "@kubernetes-models", "prometheus-operator");
const objects = JSON.parse(readFileSync(0, "utf8"));
let bad = 0;
for (const obj of objects) {
  const where = `${obj.__template__}: ${obj.kind}/${obj.metadata?.name}`;
  delete obj.__template__;
  const [group, version] = obj.apiVersion.split("/");
  let Model;
  try {
    Model = (await import(pathToFileURL(join(pkg, group, version, `${obj.kind}.js`)).href))[obj.kind];
  } catch (e) {
    console.log(`invalid\t${where}\tno CRD schema for \`${obj.apiVersion}\` \`${obj.kind}\``);
    bad++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`valid\t${where}`);
  } catch (e) {
    console.log(`invalid\t${where}\tinvalid against the ${obj.kind} CRD schema: ${String(e.message).replace(/\s+/g, " ")}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
