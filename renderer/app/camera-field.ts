import type { ControlState, Settings } from '../../shared/contract.js';
import { listCameras } from '../capture/capture.js';
import { byTestId, errorMessage, setText } from './dom.js';
import { type ApplySettings, liveField, setValue } from './field.js';

// The camera picker. Cameras are remembered by id and by label: ids change when a camera is
// plugged in again, and before the page may use the camera they are listed without either.
// Only the desktop app's window captures, so only it can list and choose; with `pushcam serve
// --ui` a headless browser captures, and the window names the camera it opened.

interface CameraOption {
  id: string;
  label: string;
  text: string;
}

export function bindCameraField(apply: ApplySettings): (state: ControlState) => void {
  const select = byTestId('camera-select', HTMLSelectElement);
  const picker = byTestId('camera-field', HTMLElement);
  const named = byTestId('camera-name-field', HTMLElement);
  const name = byTestId('camera-name', HTMLElement);
  let cameras: { id: string; label: string }[] = [];
  let shownOptions = '';
  let latest: Settings | null = null;
  let wasRunning = false;

  const field = liveField(
    {
      controls: [select],
      error: byTestId('camera-select-error', HTMLElement),
      read: () => {
        const chosen = select.selectedOptions[0];
        return { cameraId: chosen?.value ?? '', cameraLabel: chosen?.dataset.label ?? '' };
      },
      write: (settings) => {
        const options = cameraOptions(cameras, settings);
        const key = JSON.stringify(options);
        if (key !== shownOptions) {
          shownOptions = key;
          select.replaceChildren(...options.map(toOption));
        }
        setValue(select, selectedId(cameras, settings));
      },
    },
    apply,
  );

  const relist = async (): Promise<void> => {
    try {
      // Before the page may use a camera, they are listed without ids: nothing to choose yet.
      cameras = (await listCameras()).filter((camera) => camera.id !== '');
    } catch (err) {
      console.warn(`PushCam: cannot list the cameras: ${errorMessage(err)}`);
      return;
    }
    if (latest) field.show(latest);
  };
  navigator.mediaDevices?.addEventListener('devicechange', () => void relist());
  void relist();

  return (state) => {
    const camera = state.source.kind === 'camera';
    picker.hidden = !(camera && state.captureInWindow);
    named.hidden = !(camera && !state.captureInWindow);
    const opened = state.camera?.state === 'capturing' ? state.camera.label : '';
    setText(name, opened || (state.settings.cameraLabel ? `The camera whose name has "${state.settings.cameraLabel}"` : 'The default camera'));
    latest = state.settings;
    field.show(state.settings);
    // Cameras have labels once one is open, i.e. once the page was allowed to use them.
    const running = state.source.state === 'running';
    if (running && !wasRunning) void relist();
    wasRunning = running;
  };
}

/** The system default, the cameras there are, and the saved one if it is not among them. */
function cameraOptions(cameras: { id: string; label: string }[], saved: Settings): CameraOption[] {
  const options = [{ id: '', label: '', text: 'System default camera' }, ...cameras.map((c) => ({ ...c, text: c.label }))];
  if (saved.cameraId && !isPresent(cameras, saved)) {
    options.push({ id: saved.cameraId, label: saved.cameraLabel, text: `${saved.cameraLabel || 'Saved camera'} (not connected)` });
  }
  return options;
}

function isPresent(cameras: { id: string; label: string }[], saved: Settings): boolean {
  return cameras.some((c) => c.id === saved.cameraId || (saved.cameraLabel !== '' && c.label === saved.cameraLabel));
}

/** The saved camera's option: by id, else by label (the id changed), else the saved id itself. */
function selectedId(cameras: { id: string; label: string }[], saved: Settings): string {
  const byId = cameras.find((c) => c.id === saved.cameraId);
  const byLabel = cameras.find((c) => saved.cameraLabel !== '' && c.label === saved.cameraLabel);
  return saved.cameraId ? (byId ?? byLabel)?.id ?? saved.cameraId : '';
}

function toOption(camera: CameraOption): HTMLOptionElement {
  const option = new Option(camera.text, camera.id);
  option.dataset.label = camera.label;
  return option;
}
