/**
 * A FIFO counting semaphore: at most `size` holders at once, the rest wait in arrival order. `close()` answers
 * every waiter (and every later caller) with null, so a draining worker loop stops instead of waiting forever.
 */
export class ConcurrencyLimit {
  private active = 0;
  private closed = false;
  private readonly waiting: Array<(release: (() => void) | null) => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.active;
  }

  acquire(): Promise<(() => void) | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const resolve of this.waiting.splice(0)) resolve(null);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.closed ? undefined : this.waiting.shift();
      // The slot passes straight to the next waiter, so a late arrival cannot overtake the queue.
      if (next) next(this.releaser());
      else this.active--;
    };
  }
}
