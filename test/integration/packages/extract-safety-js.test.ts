/** Hostile archives refused, decoded by the JS libraries (fzstd / Node zstd, unbzip2-stream). */
import { defineSafetyTests } from './extract-safety-cases.js';

defineSafetyTests(false);
