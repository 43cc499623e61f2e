/**
 * Children of the bench end when the parent goes, however it goes: a crashed or interrupted
 * run must not leave servers holding ports and CPU.
 */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
