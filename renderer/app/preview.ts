import type { ControlClient } from '../../shared/contract.js';
import type { PreviewFrame } from '../../shared/frame-format.js';
import { byTestId, errorMessage, setText } from './dom.js';

// The preview: the very JPEGs viewers get, asked for only while the window is visible (they
// cost an encode whenever nobody else is watching).

export function bindPreview(client: ControlClient): void {
  const img = byTestId('preview', HTMLImageElement);
  const size = byTestId('preview-size', HTMLElement);
  const frame = byTestId('preview-frame', HTMLElement);
  client.on('preview', (preview: PreviewFrame) => {
    const previous = img.src;
    // A copy: the frame's bytes are a view into the message they came in.
    img.src = URL.createObjectURL(new Blob([preview.jpeg.slice()], { type: 'image/jpeg' }));
    if (previous.startsWith('blob:')) URL.revokeObjectURL(previous);
    img.dataset.seq = String(preview.seq);
    frame.dataset.hasPicture = 'true';
    setText(size, `${preview.width} × ${preview.height}`);
  });
  const wantPreview = (): void => {
    client.call('setPreview', document.visibilityState === 'visible').catch((err: unknown) => {
      console.warn(`PushCam: cannot switch the preview: ${errorMessage(err)}`);
    });
  };
  document.addEventListener('visibilitychange', wantPreview);
  wantPreview();
}
