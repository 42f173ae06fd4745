/** The demo's steps, in order. Each later feature adds its own step file and one line here. */
import type { DemoStep } from './types.js';
import { downloadsStep } from './step-downloads.js';
import { fetchStep } from './step-fetch.js';
import { repodataStep } from './step-repodata.js';
import { fileChannelStep } from './step-file-channel.js';

export const DEMO_STEPS: DemoStep[] = [downloadsStep, fetchStep, repodataStep, fileChannelStep];
