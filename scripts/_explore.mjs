import { scenarios as a } from '../test/scenarios/quiz.mjs';
import { networkScenarios as b } from '../test/scenarios/network.mjs';
import { workloadScenarios as c } from '../test/scenarios/workload.mjs';
const all = { ...a, ...b, ...c };
const [fault, ns] = process.argv.slice(2);
await all[fault].setup(ns);
console.log('ready', ns);
