import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('hands turns out in arrival order as they are released', async () => {
    const slots = new Semaphore(1);
    const first = await slots.acquire();
    const order: string[] = [];
    const second = slots.acquire().then((release) => (order.push('second'), release));
    const third = slots.acquire().then((release) => (order.push('third'), release));
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(slots.tryAcquire()).not.toBeNull();
  });

  it('lets a waiter whose job is cancelled leave the line with the signal’s AbortError, and not take a turn', async () => {
    const slots = new Semaphore(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    held();
    expect(slots.tryAcquire()).not.toBeNull();
  });

  it('refuses a signal already aborted rather than waiting for a turn it would never give back', async () => {
    const slots = new Semaphore(1);
    slots.tryAcquire();
    const controller = new AbortController();
    controller.abort();
    await expect(slots.acquire(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
