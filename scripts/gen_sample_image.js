// Writes data/sample.png, the image `simdconv demo` filters: 128x128 RGB,
// gradients, shapes with hard and soft edges, stripes and a checkerboard,
// drawn deterministically (no randomness, no external files).
//   node scripts/gen_sample_image.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { PNG } = require('pngjs');

const W = 128, H = 128;
const png = new PNG({ width: W, height: H });
const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));

for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    // Background: a diagonal sky-to-sand gradient.
    const t = (x + y) / (W + H - 2);
    let r = 40 + 200 * t, g = 90 + 110 * t, b = 200 - 120 * t;
    // A sun with a soft edge.
    const ds = Math.hypot(x - 92, y - 34);
    const sun = Math.min(1, Math.max(0, (22 - ds) / 3));
    r = r * (1 - sun) + 255 * sun; g = g * (1 - sun) + 210 * sun; b = b * (1 - sun) + 60 * sun;
    // A hard-edged red square.
    if (x >= 14 && x < 54 && y >= 20 && y < 60) { r = 210; g = 40; b = 50; }
    // A green triangle.
    if (y >= 70 && y < 118 && Math.abs(x - 40) <= (y - 70) * 0.6) { r = 40; g = 170; b = 80; }
    // Vertical stripes of rising frequency.
    if (y >= 76 && y < 118 && x >= 70 && x < 122) {
      const f = 2 + (x - 70) / 8;
      const s = Math.sin(((x - 70) * f * Math.PI) / 26) > 0 ? 1 : 0;
      r = g = b = 30 + 200 * s;
    }
    // A small checkerboard.
    if (x >= 62 && x < 86 && y >= 8 && y < 32) r = g = b = ((x >> 2) + (y >> 2)) & 1 ? 245 : 15;
    const i = 4 * (y * W + x);
    png.data[i] = clamp(r); png.data[i + 1] = clamp(g); png.data[i + 2] = clamp(b); png.data[i + 3] = 255;
  }
}
const out = path.join(__dirname, '..', 'data', 'sample.png');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, PNG.sync.write(png, { colorType: 2 }));
console.log(`${out}: ${fs.statSync(out).size} bytes`);
