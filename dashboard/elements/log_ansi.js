// ANSI colour codes (SGR, `ESC [ … m`) as CSS classes, every one from the fixed lists below: the 16
// standard colours for text and background, bold, dim, italic and underline. 256-colour and truecolour
// codes take the nearest of the 16; other attributes (inverse, blink, strike-through …) are dropped.

const FOREGROUND = Object.freeze(Array.from({ length: 16 }, (_, index) => `bl-fg-${index}`));
const BACKGROUND = Object.freeze(Array.from({ length: 16 }, (_, index) => `bl-bg-${index}`));
const NO_COLOUR = -1;

// xterm's default 16 colours, to find the nearest one for a 256-colour or truecolour code.
const PALETTE = [
  [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
  [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255],
  [255, 255, 255],
];

function nearestOf16(red, green, blue) {
  let nearest = 0;
  let nearestDistance = Infinity;
  PALETTE.forEach(([r, g, b], index) => {
    const distance = (r - red) ** 2 + (g - green) ** 2 + (b - blue) ** 2;
    if (distance < nearestDistance) { nearest = index; nearestDistance = distance; }
  });
  return nearest;
}

// The 256-colour palette: the 16, a 6×6×6 cube, then 24 greys; each as the nearest of the 16.
const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];
const OF_256 = Array.from({ length: 256 }, (_, index) => {
  if (index < 16) return index;
  if (index >= 232) {
    const grey = 8 + 10 * (index - 232);
    return nearestOf16(grey, grey, grey);
  }
  const cube = index - 16;
  return nearestOf16(CUBE_LEVELS[Math.floor(cube / 36)], CUBE_LEVELS[Math.floor(cube / 6) % 6], CUBE_LEVELS[cube % 6]);
});

const isByte = (value) => Number.isInteger(value) && value >= 0 && value <= 255;

// The colour of `38;5;n` or `38;2;r;g;b` whose parameters after 38 (or 48) start at codes[at]:
// [one of the 16 or NO_COLOUR, how many parameters it took].
function extendedColour(codes, at) {
  if (codes[at] === 5) return [isByte(codes[at + 1]) ? OF_256[codes[at + 1]] : NO_COLOUR, 2];
  if (codes[at] === 2) {
    const [red, green, blue] = codes.slice(at + 1, at + 4);
    return [[red, green, blue].every(isByte) ? nearestOf16(red, green, blue) : NO_COLOUR, 4];
  }
  return [NO_COLOUR, codes.length];  // not a form we know: the rest of the sequence cannot be read
}

// The text style that a run of SGR sequences sets, from the terminal's default.
export class SgrStyle {
  constructor() {
    this.reset();
  }

  reset() {
    this.foreground = NO_COLOUR;
    this.background = NO_COLOUR;
    this.bold = false;
    this.dim = false;
    this.italic = false;
    this.underline = false;
  }

  // Apply one SGR sequence's parameters: "1;32", or "" (a reset). Empty parameters count as 0.
  apply(parameters) {
    const codes = parameters.split(";").map(Number);
    for (let index = 0; index < codes.length; index++) {
      const code = codes[index];
      if (code === 38 || code === 48) {
        const [colour, used] = extendedColour(codes, index + 1);
        if (code === 38) this.foreground = colour; else this.background = colour;
        index += used;
      } else if (code === 0) this.reset();
      else if (code === 1) this.bold = true;
      else if (code === 2) this.dim = true;
      else if (code === 3) this.italic = true;
      else if (code === 4) this.underline = true;
      else if (code === 22) { this.bold = false; this.dim = false; }
      else if (code === 23) this.italic = false;
      else if (code === 24) this.underline = false;
      else if (code >= 30 && code <= 37) this.foreground = code - 30;
      else if (code === 39) this.foreground = NO_COLOUR;
      else if (code >= 40 && code <= 47) this.background = code - 40;
      else if (code === 49) this.background = NO_COLOUR;
      else if (code >= 90 && code <= 97) this.foreground = code - 90 + 8;
      else if (code >= 100 && code <= 107) this.background = code - 100 + 8;
    }
  }

  // The classes for text drawn in this style: "" for the default.
  get className() {
    const classes = [];
    if (this.foreground !== NO_COLOUR) classes.push(FOREGROUND[this.foreground]);
    if (this.background !== NO_COLOUR) classes.push(BACKGROUND[this.background]);
    if (this.bold) classes.push("bl-bold");
    if (this.dim) classes.push("bl-dim");
    if (this.italic) classes.push("bl-italic");
    if (this.underline) classes.push("bl-underline");
    return classes.join(" ");
  }
}
