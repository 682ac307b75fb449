/**
 * Resolves after `ms`, or as soon as the function handed to `register` is called (a reader
 * waiting for data: the writer calls it when some arrives).
 */
export function wakeOrTimeout(ms: number, register: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    register(wake);
  });
}
