// The npm package mjpeg-server ships no types; this is its whole API (lib/mjpeg-server.js).
declare module 'mjpeg-server' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { Writable } from 'node:stream';

  /** A Writable: every JPEG written to it goes out as one part; close() ends the response. */
  export interface MjpegReqHandler extends Writable {
    close(): void;
  }

  export function createReqHandler(req: IncomingMessage, res: ServerResponse): MjpegReqHandler;
}
