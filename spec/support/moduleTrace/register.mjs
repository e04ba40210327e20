// `node --import ./register.mjs`: records the modules a process loads (see hooks.mjs).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
