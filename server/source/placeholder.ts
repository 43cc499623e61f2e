import { DEFAULT_SETTINGS } from '../../shared/settings-table.js';
import type { RawImage } from '../types.js';
import { drawLabel, labelSizeFor, renderLabel } from '../encoder/text.js';

const BACKGROUND = 40;
const LINE_GAP = 0.25;
// Long lines (a deep path) are shrunk to fit this share of the width rather than cut off.
const MAX_TEXT_WIDTH = 0.94;
const MIN_LABEL_SIZE = 10;

/** A placeholder's size while no picture has told the size: the picture size asked of a camera by default. */
export const PLACEHOLDER_SIZE = { width: DEFAULT_SETTINGS.width, height: DEFAULT_SETTINGS.height };

/** A dark grey RGB frame with `lines` of text centred on it, shown while there is no picture. */
export async function placeholderImage(width: number, height: number, lines: string[]): Promise<RawImage> {
  const image: RawImage = { width, height, channels: 3, data: Buffer.alloc(width * height * 3, BACKGROUND) };
  const labels = await labelsThatFit(lines, labelSizeFor(image), width * MAX_TEXT_WIDTH);
  const gap = labels.length > 0 ? Math.round(labels[0].height * LINE_GAP) : 0;
  const blockHeight = labels.reduce((sum, label) => sum + label.height, 0) + gap * (labels.length - 1);
  let y = (height - blockHeight) / 2;
  for (const label of labels) {
    drawLabel(image, label, (width - label.width) / 2, y);
    y += label.height + gap;
  }
  return image;
}

async function labelsThatFit(lines: string[], size: number, maxWidth: number): Promise<RawImage[]> {
  const labels = await Promise.all(lines.map((line) => renderLabel(line, size)));
  const widest = Math.max(0, ...labels.map((label) => label.width));
  if (widest <= maxWidth || size <= MIN_LABEL_SIZE) return labels;
  const smaller = Math.max(MIN_LABEL_SIZE, Math.floor((size * maxWidth) / widest));
  return Promise.all(lines.map((line) => renderLabel(line, smaller)));
}
