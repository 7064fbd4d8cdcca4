// Preloaded into each real-process fuzz case (`node --import`): writes the process's peak RSS
// (KiB, from process.resourceUsage) to $STS_DOCTOR_RSS_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.STS_DOCTOR_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
