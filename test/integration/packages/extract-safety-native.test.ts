/** Hostile archives refused, decoded by the zstd/bzip2 programs; and .conda layout and mode rules. */
import { defineFormatTests, defineSafetyTests } from './extract-safety-cases.js';

defineSafetyTests(true);
defineFormatTests();
