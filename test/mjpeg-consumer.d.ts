// The npm package mjpeg-consumer ships no types; this is its whole API (lib/mjpeg-consumer.js).
declare module 'mjpeg-consumer' {
  import { Transform } from 'node:stream';

  /** A Transform: multipart bytes in, one Buffer per JPEG out (it finds parts by Content-Length). */
  export default class MjpegConsumer extends Transform {}
}
