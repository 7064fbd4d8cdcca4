// Starts the real control plane of test/cluster for the end-to-end tests, and stops it after
// them if this run started it (a cluster a developer already had up is left running).
import { clusterDown, clusterUp } from '../scenarios/cluster.mjs';

export default function setup(): () => void {
  const { startedHere } = clusterUp();
  return () => {
    if (startedHere && !process.env.STS_DOCTOR_KEEP_CLUSTER) clusterDown();
  };
}
