// A binary min-heap of keyed items that can be updated or removed by key in O(log n). The
// scheduler keeps one entry per armed job in it and sleeps on the smallest, so ten thousand
// enabled jobs cost one timer, not ten thousand.

export class KeyedHeap<K, V> {
  private readonly items: Array<{ key: K; value: V }> = [];
  private readonly index = new Map<K, number>();

  /** `less(a, b)`: a comes out before b. Ties must be broken by the caller for a stable order. */
  constructor(private readonly less: (a: V, b: V) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  get(key: K): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i]!.value;
  }

  peek(): { key: K; value: V } | undefined {
    return this.items[0];
  }

  /** Inserts, or replaces the value of an existing key. */
  set(key: K, value: V): void {
    const i = this.index.get(key);
    if (i !== undefined) {
      this.items[i]!.value = value;
      this.siftDown(this.siftUp(i));
      return;
    }
    this.items.push({ key, value });
    this.index.set(key, this.items.length - 1);
    this.siftUp(this.items.length - 1);
  }

  delete(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  pop(): { key: K; value: V } | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0]!;
    this.removeAt(0);
    return top;
  }

  clear(): void {
    this.items.length = 0;
    this.index.clear();
  }

  private removeAt(i: number): void {
    const last = this.items.pop()!;
    this.index.delete(this.items.length === i ? last.key : this.items[i]!.key);
    if (i === this.items.length) return;
    this.items[i] = last;
    this.index.set(last.key, i);
    this.siftDown(this.siftUp(i));
  }

  private swap(a: number, b: number): void {
    const x = this.items[a]!;
    const y = this.items[b]!;
    this.items[a] = y;
    this.items[b] = x;
    this.index.set(y.key, a);
    this.index.set(x.key, b);
  }

  private siftUp(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.items[i]!.value, this.items[parent]!.value)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private siftDown(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.items[l]!.value, this.items[m]!.value)) m = l;
      if (r < n && this.less(this.items[r]!.value, this.items[m]!.value)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
