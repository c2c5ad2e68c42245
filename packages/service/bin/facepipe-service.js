#!/usr/bin/env node
// A committed launcher, so npm can link the bin at install time, before the build exists.
import '../dist/main.js';
