#!/usr/bin/env node
// sts-doctor: also installed as `kubectl-sts_doctor`, so `kubectl sts-doctor` finds it.
import '../dist/cli.js';
