/** A flag set once, that can be waited for with a deadline (a leg seen leaving, say): no timer left behind. */
export class Latch {
  private opened = false;
  private waiters: Array<() => void> = [];

  get isOpen(): boolean {
    return this.opened;
  }

  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** True once open; false if `ms` pass first. */
  wait(ms: number): Promise<boolean> {
    if (this.opened) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.opened), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
