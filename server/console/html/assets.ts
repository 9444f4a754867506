/**
 * Serves the console's stylesheet and script. They are read once at start; the state colours
 * are generated from html/states.ts so a state looks the same in HTML as in the SVGs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { KNOWN_STATES, stateStyle } from './states';

function stateRules(): string {
  return KNOWN_STATES.map((state) => {
    const s = stateStyle(state);
    return `.state-${state}{background:${s.color};color:${s.ink}}`;
  }).join('\n');
}

export function assets(): Router {
  const css = `${fs.readFileSync(path.join(__dirname, 'console.css'), 'utf8')}\n${stateRules()}\n`;
  const js = fs.readFileSync(path.join(__dirname, 'console.js'), 'utf8');
  const router = Router();
  router.get('/assets/console.css', (_req, res) => {
    res.type('text/css').set('cache-control', 'no-cache').send(css);
  });
  router.get('/assets/console.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'no-cache').send(js);
  });
  return router;
}
