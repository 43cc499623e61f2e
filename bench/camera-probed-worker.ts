// PushCam's capture worker with the bench's probe loaded first (imports run in this order), bundled
// by bench/camera-browser.ts from the same source as dist/renderer/capture/capture-worker.js.
import './camera-probe.js';
import '../renderer/capture/capture-worker.js';
